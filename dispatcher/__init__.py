"""The AWS Lambda dispatcher: S3 upload event → presigned URLs → async RunPod job.

Stdlib and boto3 only (both are in the Lambda runtime), never `runpod` (its import alone takes
~1.7 s), and it never reads a transcript: the worker pulls it through a presigned GET.
"""

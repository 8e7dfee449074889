"""Deployment commands that run on the user's machine, never in the Lambda or the worker.

`python -m deploy.worker` (`make deploy-worker`) creates or updates the RunPod serverless template
and endpoint by name over RunPod's REST API. The AWS side is `template.yaml` (SAM).
"""

"""The local cloud: moto's S3 and SQS over HTTP, the S3→dispatcher bridge, a RunPod emulator and
the real worker process. Everything binds 127.0.0.1 on free ports and is stopped by the code that
started it. Used by `make demo`, the end-to-end tests and the benchmarks; never deployed.
"""

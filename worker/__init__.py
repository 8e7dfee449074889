"""RunPod GPU worker: download a transcript, summarise it on a model server, upload the result.

The package never imports `runpod` or `vllm`: `handler.py` owns the SDK, `worker/engines/` owns the
model server. Everything here is testable with plain asyncio and local HTTP servers.
"""

"""The client command (`python -m client`): upload a transcript, follow its job, print its summary.

Runs on the user's machine, never in the Lambda: it has a package of its own so that `dispatcher/`
holds exactly what the Lambda zip contains. It reuses the dispatcher's RunPod client and
output-key naming rather than copying them, so the two cannot drift apart.
"""

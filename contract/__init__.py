"""What the two deployables share: the metadata document both of them write (`contract.metadata`).

Stdlib only: the Lambda zip and the worker image both ship this package, and nothing in it imports
`worker` or `dispatcher`.
"""

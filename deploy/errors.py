"""The deploy command's exception tree.

DeployError
├── DeployConfigError      a setting or flag is missing or malformed (names it)
├── DeployConflictError    what exists on RunPod cannot be updated in place (names it and why)
└── RunPodRestError        the REST API refused or failed a request (method, path, RunPod's answer)
    └── RunPodRestAuthError  401/403: the API key is wrong or lacks access; retrying cannot help
"""

from __future__ import annotations


class DeployError(Exception):
    pass


class DeployConfigError(DeployError):
    pass


class DeployConflictError(DeployError):
    pass


class RunPodRestError(DeployError):
    pass


class RunPodRestAuthError(RunPodRestError):
    pass

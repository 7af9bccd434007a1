class UserFacingError(Exception):
    """An error whose message is written for the person who asked: shown as it is, not logged as a bug.

    Each outside system's module raises its own subclass (KubeError, AgentError, DockerError, …).
    """

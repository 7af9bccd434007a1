class AgentError(Exception):
    """An error answered to the client as JSON: {"error": code, "message": message, **extra}."""

    def __init__(self, status: int, code: str, message: str, **extra):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


def bad_request(message: str, code: str = "bad_request", **extra) -> AgentError:
    return AgentError(400, code, message, **extra)


def not_found(message: str) -> AgentError:
    return AgentError(404, "not_found", message)


def conflict(message: str, code: str = "conflict", **extra) -> AgentError:
    return AgentError(409, code, message, **extra)


def too_large(message: str) -> AgentError:
    return AgentError(413, "too_large", message)

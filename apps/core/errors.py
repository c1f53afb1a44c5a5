"""Domain errors: raised by services, mapped to HTTP once (apps.core.api) and to websocket
messages once (the inbox consumer)."""


class DomainError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, detail: str, **extra):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def as_dict(self) -> dict:
        return {"detail": self.detail, "code": self.code, **self.extra}


class NotAllowed(DomainError):
    status_code = 403
    code = "not_allowed"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class InvalidInput(DomainError):
    status_code = 400
    code = "invalid"

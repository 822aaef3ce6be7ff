"""The one error base of the platform: interfaces turn these into responses."""


class ApplicationError(Exception):
    """An error the user caused or can act on; its message is shown to them."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, object]:
        """The JSON the API answers with; subclasses may add fields beside `detail`."""
        return {"detail": self.message}


class NotFound(ApplicationError):
    status_code = 404


class Forbidden(ApplicationError):
    status_code = 403


class Conflict(ApplicationError):
    status_code = 409


class Unauthorized(ApplicationError):
    status_code = 401

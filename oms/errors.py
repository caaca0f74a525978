"""Domain errors. Views turn them into form errors or messages, never a 500."""


class DomainError(Exception):
    """A business rule refused the request; the message is for the person who asked."""


class TransitionNotAllowed(DomainError):
    pass


class InsufficientStock(DomainError):
    pass

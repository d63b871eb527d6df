"""Personal data: marked in event models, sealed (SM4-GCM, a key per data subject) by the event
store, masked for display, erasable by destroying the subject's key, found by blind index."""

from petitions.personal.blind_index import BlindIndex
from petitions.personal.codec import ERASED, PlanError, plan_for
from petitions.personal.fields import (
    Address,
    CreditCode,
    HkMacauPermit,
    Name,
    Passport,
    PermanentResidenceId,
    Personal,
    PersonalText,
    Phone,
    ResidentId,
    Subject,
    SubjectId,
    TaiwanPermit,
)
from petitions.personal.keys import (
    CiphertextMismatchError,
    DataKeys,
    KeyService,
    KeyUnavailableError,
    LocalKeyService,
    MemoryDataKeys,
    PersonalDataError,
    SubjectErasedError,
    SubjectKeys,
    generate_key,
)

__all__ = [
    "ERASED",
    "Address",
    "BlindIndex",
    "CiphertextMismatchError",
    "CreditCode",
    "DataKeys",
    "HkMacauPermit",
    "KeyService",
    "KeyUnavailableError",
    "LocalKeyService",
    "MemoryDataKeys",
    "Name",
    "Passport",
    "PermanentResidenceId",
    "Personal",
    "PersonalDataError",
    "PersonalText",
    "Phone",
    "PlanError",
    "ResidentId",
    "Subject",
    "SubjectErasedError",
    "SubjectId",
    "SubjectKeys",
    "TaiwanPermit",
    "generate_key",
    "plan_for",
]

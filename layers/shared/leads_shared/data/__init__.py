"""The data layer: the only code that talks to DynamoDB and S3. Stores are built once per process.

Each store's module is imported when its store is first asked for, not with this package: a
function imports only the stores (and their models) it uses, and a cold start only those its
first request uses. SnapStart's priming imports them all (``STORE_MODULES``) before the snapshot.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from leads_shared.config import get_settings

if TYPE_CHECKING:
    from leads_shared.data.activity_store import ActivityStore
    from leads_shared.data.blob_store import BlobStore
    from leads_shared.data.capture_store import CaptureStore
    from leads_shared.data.directory_store import DirectoryStore
    from leads_shared.data.erasure_store import ErasureStore
    from leads_shared.data.export_store import ExportStore
    from leads_shared.data.form_store import FormStore
    from leads_shared.data.import_store import ImportStore
    from leads_shared.data.job_queue import JobQueue
    from leads_shared.data.lead_store import LeadStore
    from leads_shared.data.mail_store import MailStore
    from leads_shared.data.merge_store import MergeStore
    from leads_shared.data.record_store import RecordStore
    from leads_shared.data.scim_token_store import ScimTokenStore
    from leads_shared.data.secret_store import SecretStore
    from leads_shared.data.tenant_store import TenantStore
    from leads_shared.data.trash_store import TrashStore

STORE_MODULES = tuple(
    f"leads_shared.data.{name}"
    for name in (
        "activity_store",
        "blob_store",
        "capture_store",
        "directory_store",
        "erasure_store",
        "export_store",
        "form_store",
        "import_store",
        "job_queue",
        "lead_store",
        "mail_store",
        "merge_store",
        "record_store",
        "scim_token_store",
        "secret_store",
        "tenant_store",
        "trash_store",
    )
)


@lru_cache(maxsize=1)
def get_lead_store() -> LeadStore:
    from leads_shared.data.lead_store import LeadStore

    return LeadStore(get_settings().table_name)


@lru_cache(maxsize=1)
def get_directory_store() -> DirectoryStore:
    from leads_shared.data.directory_store import DirectoryStore

    return DirectoryStore(get_settings().table_name)


@lru_cache(maxsize=1)
def get_record_store() -> RecordStore:
    from leads_shared.data.record_store import RecordStore

    return RecordStore(get_settings().table_name)


@lru_cache(maxsize=1)
def get_activity_store() -> ActivityStore:
    from leads_shared.data.activity_store import ActivityStore

    return ActivityStore(get_settings().table_name)


@lru_cache(maxsize=1)
def get_import_store() -> ImportStore:
    from leads_shared.data.import_store import ImportStore

    return ImportStore(get_settings().table_name)


@lru_cache(maxsize=1)
def get_mail_store() -> MailStore:
    from leads_shared.data.mail_store import MailStore

    return MailStore(get_settings().table_name)


@lru_cache(maxsize=1)
def get_merge_store() -> MergeStore:
    from leads_shared.data.merge_store import MergeStore

    return MergeStore(get_settings().table_name)


@lru_cache(maxsize=1)
def get_trash_store() -> TrashStore:
    from leads_shared.data.trash_store import TrashStore

    return TrashStore(get_settings().table_name)


@lru_cache(maxsize=1)
def get_tenant_store() -> TenantStore:
    from leads_shared.data.tenant_store import TenantStore

    return TenantStore(get_settings().table_name)


@lru_cache(maxsize=1)
def get_scim_token_store() -> ScimTokenStore:
    from leads_shared.data.scim_token_store import ScimTokenStore

    return ScimTokenStore(get_settings().table_name)


@lru_cache(maxsize=1)
def get_blob_store() -> BlobStore:
    from leads_shared.data.blob_store import BlobStore

    return BlobStore(get_settings().bucket_name or "")


@lru_cache(maxsize=1)
def get_form_store() -> FormStore:
    from leads_shared.data.form_store import FormStore

    return FormStore(get_settings().table_name)


@lru_cache(maxsize=1)
def get_capture_store() -> CaptureStore:
    from leads_shared.data.capture_store import CaptureStore

    return CaptureStore(get_settings().table_name)


@lru_cache(maxsize=1)
def get_secret_store() -> SecretStore:
    from leads_shared.data.secret_store import SecretStore

    return SecretStore()


@lru_cache(maxsize=1)
def get_export_store() -> ExportStore:
    from leads_shared.data.export_store import ExportStore

    return ExportStore(get_settings().table_name)


@lru_cache(maxsize=1)
def get_export_queue() -> JobQueue:
    from leads_shared.data.job_queue import JobQueue

    return JobQueue(get_settings().export_queue_name or "")


@lru_cache(maxsize=1)
def get_erasure_store() -> ErasureStore:
    from leads_shared.data.erasure_store import ErasureStore

    return ErasureStore(get_settings().table_name)

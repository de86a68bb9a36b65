"""The data layer: the only code that talks to DynamoDB and S3. Stores are built once per process."""

from __future__ import annotations

from functools import lru_cache

from leads_shared.config import get_settings
from leads_shared.data.activity_store import ActivityStore
from leads_shared.data.blob_store import BlobStore
from leads_shared.data.capture_store import CaptureStore
from leads_shared.data.directory_store import DirectoryStore
from leads_shared.data.form_store import FormStore
from leads_shared.data.import_store import ImportStore
from leads_shared.data.lead_store import LeadStore
from leads_shared.data.mail_store import MailStore
from leads_shared.data.record_store import RecordStore
from leads_shared.data.scim_token_store import ScimTokenStore
from leads_shared.data.secret_store import SecretStore
from leads_shared.data.tenant_store import TenantStore


@lru_cache(maxsize=1)
def get_lead_store() -> LeadStore:
    return LeadStore(get_settings().table_name)


@lru_cache(maxsize=1)
def get_directory_store() -> DirectoryStore:
    return DirectoryStore(get_settings().table_name)


@lru_cache(maxsize=1)
def get_record_store() -> RecordStore:
    return RecordStore(get_settings().table_name)


@lru_cache(maxsize=1)
def get_activity_store() -> ActivityStore:
    return ActivityStore(get_settings().table_name)


@lru_cache(maxsize=1)
def get_import_store() -> ImportStore:
    return ImportStore(get_settings().table_name)


@lru_cache(maxsize=1)
def get_mail_store() -> MailStore:
    return MailStore(get_settings().table_name)


@lru_cache(maxsize=1)
def get_tenant_store() -> TenantStore:
    return TenantStore(get_settings().table_name)


@lru_cache(maxsize=1)
def get_scim_token_store() -> ScimTokenStore:
    return ScimTokenStore(get_settings().table_name)


@lru_cache(maxsize=1)
def get_blob_store() -> BlobStore:
    return BlobStore(get_settings().bucket_name or "")


@lru_cache(maxsize=1)
def get_form_store() -> FormStore:
    return FormStore(get_settings().table_name)


@lru_cache(maxsize=1)
def get_capture_store() -> CaptureStore:
    return CaptureStore(get_settings().table_name)


@lru_cache(maxsize=1)
def get_secret_store() -> SecretStore:
    return SecretStore()

"""The Blob Storage adapters against Azurite: document containers and model folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from lexicraft.errors import (
    DocumentFileMissing,
    ModelUnavailable,
    StorageAccessDenied,
    StorageContainerMissing,
    StoragePathError,
    StorageUnavailable,
)
from lexicraft.ml.checksums import (
    CHECKSUMS_FILE,
    VerdictKind,
    file_digest,
    record_additions,
    verify,
    write_checksums,
)
from lexicraft.storage.artifacts.azure import MANIFEST_SUFFIX, AzureModelStore
from lexicraft.storage.artifacts.local import LocalModelStore
from lexicraft.storage.blobs.azure import AzureBlobStore, open_account
from tests.azurite import ACCOUNT_KEY

MODELS = "lexicraft-models"
WRONG_KEY = "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXk="


@pytest.fixture
def account(azurite_connection_string: str) -> BlobServiceClient:
    return open_account(azurite_connection_string, retries=0)


def model_store(account: BlobServiceClient, cache: Path, capacity: int = 8) -> AzureModelStore:
    return AzureModelStore(account, MODELS, cache=cache, capacity=capacity)


def train_into(store: AzureModelStore, key: str, attempt: str = "attempt1") -> Path:
    """A model folder as a trainer leaves it, published under ``key``."""
    staging = store.staging_dir(key, attempt)
    (staging / "weights").mkdir(parents=True)
    (staging / "config.json").write_text('{"backend": "x"}', encoding="utf-8")
    (staging / "weights" / "w.bin").write_bytes(bytes(range(256)) * 100)
    store.publish(key, staging)
    return store.local_path(key)


def blob_names(account: BlobServiceClient, prefix: str = "") -> set[str]:
    client = account.get_container_client(MODELS)
    return {blob.name for blob in client.list_blobs(name_starts_with=prefix)}


def test_documents_round_trip_exactly(account: BlobServiceClient) -> None:
    account.create_container("docs")
    store = AzureBlobStore(account)
    text = "line one\r\nline two\n😀 e\u0301 end\r\n"
    store.write_text("docs", "folder\\a.txt", text)
    assert store.read_text("docs", "folder/a.txt") == text
    assert store.read_text("docs", "./folder/a.txt") == text
    assert store.exists("docs", "folder/a.txt")
    assert not store.exists("docs", "folder/b.txt")
    raw = account.get_blob_client("docs", "folder/a.txt").download_blob().readall()
    assert raw == text.encode("utf-8")
    store.check_reachable()


def test_bad_locations_and_files_are_refused(account: BlobServiceClient) -> None:
    account.create_container("docs")
    store = AzureBlobStore(account)
    with pytest.raises(
        DocumentFileMissing, match=r"'missing\.txt' was not found in storage container 'docs'"
    ):
        store.read_text("docs", "missing.txt")
    account.get_blob_client("docs", "latin1.txt").upload_blob(b"caf\xe9")
    with pytest.raises(DocumentFileMissing, match="not valid UTF-8"):
        store.read_text("docs", "latin1.txt")
    for location in ("../x.txt", "/x.txt", "C:x.txt", ""):
        with pytest.raises(StoragePathError):
            store.read_text("docs", location)
        with pytest.raises(StoragePathError):
            store.check_location("docs", location)
    store.check_location("no-such-container", "a/b.txt")  # the rule only: no request
    with pytest.raises(StoragePathError, match="'Docs_1' is not a valid Blob container name"):
        store.exists("Docs_1", "a.txt")


def test_a_missing_container_is_named(account: BlobServiceClient) -> None:
    store = AzureBlobStore(account)
    for call in (
        lambda: store.read_text("nowhere", "a.txt"),
        lambda: store.exists("nowhere", "a.txt"),
        lambda: store.write_text("nowhere", "a.txt", "text"),
    ):
        with pytest.raises(StorageContainerMissing) as raised:
            call()
        assert (
            raised.value.message
            == "storage container 'nowhere' does not exist in the storage account"
        )


def test_refused_credentials_name_the_container_and_no_secret(
    azurite_connection_string: str, tmp_path: Path
) -> None:
    good = open_account(azurite_connection_string, retries=0)
    good.create_container("docs")
    wrong = open_account(azurite_connection_string.replace(ACCOUNT_KEY, WRONG_KEY), retries=0)
    store = AzureBlobStore(wrong)
    # Not transient: a job that meets it fails with this reason instead of running again.
    with pytest.raises(StorageAccessDenied) as raised:
        store.read_text("docs", "a.txt")
    message = raised.value.message
    assert "storage container 'docs'" in message and "refused access" in message
    assert WRONG_KEY not in message and ACCOUNT_KEY not in message
    with pytest.raises(StorageUnavailable):
        store.check_reachable()
    # Training fails before it starts when the models container cannot be used.
    with pytest.raises(StorageAccessDenied, match=f"storage container '{MODELS}'"):
        model_store(wrong, tmp_path).staging_dir("p/m1-0123456789ab", "attempt1")


def test_a_published_model_is_downloaded_once_by_another_host(
    account: BlobServiceClient, tmp_path: Path
) -> None:
    key = "people/m1-0123456789ab"
    trainer = model_store(account, tmp_path / "a")
    folder = train_into(trainer, key)
    # The training host keeps its copy; the models container was created on first use.
    assert trainer.local_dir(key) == folder == tmp_path / "a" / "people" / "m1-0123456789ab"
    assert blob_names(account) == {
        f"{key}/config.json",
        f"{key}/weights/w.bin",
        key + MANIFEST_SUFFIX,
    }

    other = model_store(account, tmp_path / "b")
    copy = other.local_dir(key)
    assert copy == tmp_path / "b" / "people" / "m1-0123456789ab"
    assert (copy / "weights" / "w.bin").read_bytes() == (folder / "weights" / "w.bin").read_bytes()
    assert sorted(p.name for p in copy.parent.iterdir()) == ["m1-0123456789ab"]  # no temporaries
    # Later calls read the copy: they work with the blobs gone.
    account.get_container_client(MODELS).delete_blob(f"{key}/weights/w.bin")
    assert other.local_dir(key) == copy and (copy / "weights" / "w.bin").is_file()


def test_a_model_without_its_manifest_is_never_used_and_a_rerun_removes_it(
    account: BlobServiceClient, tmp_path: Path
) -> None:
    store = model_store(account, tmp_path / "a")
    complete = "people/m1-aaaaaaaaaaaa"
    train_into(store, complete, attempt="job1")
    # What a worker that died while uploading leaves: some files, no manifest.
    cut_off = "people/m1-bbbbbbbbbbbb"
    client = account.get_container_client(MODELS)
    client.upload_blob(f"{cut_off}/config.json", b"{}", metadata={"attempt": "job2"})

    with pytest.raises(ModelUnavailable, match="'people/m1-bbbbbbbbbbbb' is not complete"):
        model_store(account, tmp_path / "b").local_dir(cut_off)
    assert not (tmp_path / "b" / "people" / "m1-bbbbbbbbbbbb").exists()

    # The re-run of job2 deletes its dead attempt's blobs, and nothing of other models.
    store.staging_dir("people/m1-cccccccccccc", "job2")
    assert blob_names(account, "people/m1-b") == set()
    assert blob_names(account, complete) == {
        f"{complete}/config.json",
        f"{complete}/weights/w.bin",
        complete + MANIFEST_SUFFIX,
    }


def test_files_added_at_deploy_are_shared(account: BlobServiceClient, tmp_path: Path) -> None:
    key = "people/m1-0123456789ab"
    trainer = model_store(account, tmp_path / "a")
    folder = train_into(trainer, key)
    (folder / "serving.onnx").write_bytes(b"onnx")
    (folder / ".serving.tmp.onnx").write_bytes(b"half")  # a temporary of an atomic write
    trainer.share_additions(key)
    copy = model_store(account, tmp_path / "b").local_dir(key)
    assert (copy / "serving.onnx").read_bytes() == b"onnx"
    assert not (copy / ".serving.tmp.onnx").exists()


def test_checksums_added_at_deploy_are_shared_with_every_host(
    account: BlobServiceClient, tmp_path: Path
) -> None:
    key = "people/m1-0123456789ab"
    trainer = model_store(account, tmp_path / "a")
    staging = trainer.staging_dir(key, "attempt1")
    staging.mkdir(parents=True)
    (staging / "config.json").write_text('{"backend": "x"}', encoding="utf-8")
    write_checksums(staging)
    trainer.publish(key, staging)
    folder = trainer.local_path(key)
    early = model_store(account, tmp_path / "early").local_dir(key)  # copied before the deploy

    (folder / "serving.onnx").write_bytes(b"onnx")
    assert record_additions(folder)
    trainer.share_additions(key)

    late = model_store(account, tmp_path / "late").local_dir(key)
    assert (late / "serving.onnx").read_bytes() == b"onnx"
    assert verify(late).kind is VerdictKind.VERIFIED
    assert file_digest(late / CHECKSUMS_FILE) == file_digest(folder / CHECKSUMS_FILE)
    # A host that copied the model before keeps serving it without the serving file.
    assert verify(early).kind is VerdictKind.VERIFIED


def test_a_document_blob_is_deleted(account: BlobServiceClient) -> None:
    store = AzureBlobStore(account)
    account.create_container("docs")
    store.write_text("docs", "a/b.txt", "text")
    store.delete("docs", "a/b.txt")
    assert not store.exists("docs", "a/b.txt")
    store.delete("docs", "a/b.txt")  # gone already: nothing to do
    assert store.sweep_temporaries(older_than=1e12) == []


def test_delete_removes_the_blobs_and_the_copy(account: BlobServiceClient, tmp_path: Path) -> None:
    key = "people/m1-0123456789ab"
    store = model_store(account, tmp_path / "a")
    folder = train_into(store, key)
    store.delete(key)
    assert blob_names(account) == set()
    assert not folder.exists()
    with pytest.raises(ModelUnavailable):
        model_store(account, tmp_path / "b").local_dir(key)


def test_the_cache_keeps_the_most_recently_used_models(
    account: BlobServiceClient, tmp_path: Path
) -> None:
    trainer = model_store(account, tmp_path / "a")
    keys = [f"people/m{n}-0123456789ab" for n in range(3)]
    for key in keys:
        train_into(trainer, key)
    reader = model_store(account, tmp_path / "b", capacity=2)
    first = reader.local_dir(keys[0])
    second = reader.local_dir(keys[1])
    reader.local_dir(keys[0])  # used again: now the second is the least recently used
    third = reader.local_dir(keys[2])
    assert first.is_dir() and third.is_dir() and not second.exists()


def test_rows_written_before_model_keys_are_read_where_they_are(
    account: BlobServiceClient, tmp_path: Path
) -> None:
    old = tmp_path / "models" / "people" / "m1-0123456789ab"
    old.mkdir(parents=True)
    for store in (model_store(account, tmp_path / "cache"), LocalModelStore(tmp_path / "x")):
        assert store.local_dir(str(old)) == old
        assert store.local_path(str(old)) == old
    LocalModelStore(tmp_path / "x").delete(str(old))
    assert not old.exists()

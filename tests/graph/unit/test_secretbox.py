"""Encryption at rest: sealing, opening, rotation and the errors in plain words."""

import pytest
from cryptography.fernet import Fernet

from m365_graph.core.secretbox import PREFIX, SecretBox, SecretKeyError, is_sealed, parse_keys

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()


def test_parse_keys_accepts_commas_spaces_and_nothing():
    assert parse_keys(None) == []
    assert parse_keys("  ") == []
    assert parse_keys(f" {NEW} , {OLD}\n") == [NEW, OLD]
    assert parse_keys(f"{NEW} {OLD}") == [NEW, OLD]


def test_seal_and_open_round_trip_without_the_plain_text_in_the_sealed_value():
    box = SecretBox(NEW)
    sealed = box.seal("top-secret-value")
    assert sealed.startswith(PREFIX) and is_sealed(sealed)
    assert "top-secret-value" not in sealed
    assert box.open(sealed) == "top-secret-value"
    assert box.seal(sealed) == sealed, "sealing is idempotent"
    assert box.seal("top-secret-value") != sealed, "every seal has its own IV"


def test_empty_values_stay_empty():
    box = SecretBox(NEW)
    assert box.seal(None) is None
    assert box.seal("") == ""
    assert box.open(None) is None


def test_without_a_key_values_are_stored_and_read_as_they_are():
    box = SecretBox("")
    assert not box.enabled
    assert box.seal("plain") == "plain"
    assert box.open("plain") == "plain"
    assert not box.needs_reseal("plain")


def test_plain_text_written_before_encryption_is_still_read():
    assert SecretBox(NEW).open("legacy-plain-secret") == "legacy-plain-secret"
    assert SecretBox(NEW).needs_reseal("legacy-plain-secret")


def test_an_encrypted_value_without_a_key_says_what_to_do():
    sealed = SecretBox(NEW).seal("value")
    with pytest.raises(SecretKeyError, match="has no encryption key: set m365_sync_key"):
        SecretBox(None).open(sealed)


def test_a_wrong_key_says_the_key_changed():
    sealed = SecretBox(OLD).seal("value")
    with pytest.raises(SecretKeyError, match=r"cannot be decrypted .* the key was changed"):
        SecretBox(NEW).open(sealed)


def test_a_malformed_key_is_refused_with_how_to_make_one():
    with pytest.raises(SecretKeyError, match="Key number 2 of m365_sync_key is not a valid"):
        SecretBox(f"{NEW},not-a-key")
    with pytest.raises(SecretKeyError, match=r"Fernet\.generate_key"):
        SecretBox("short")


def test_rotation_old_key_still_decrypts_and_reseal_uses_the_new_one():
    sealed_old = SecretBox(OLD).seal("refresh-token")
    rotating = SecretBox(f"{NEW},{OLD}")
    assert rotating.open(sealed_old) == "refresh-token"
    assert rotating.needs_reseal(sealed_old)
    resealed = rotating.reseal(sealed_old)
    assert not rotating.needs_reseal(resealed)
    assert SecretBox(NEW).open(resealed) == "refresh-token", "the old key can now be dropped"
    with pytest.raises(SecretKeyError):
        SecretBox(OLD).open(resealed)
    assert (
        rotating.reseal("legacy") != "legacy"
        and rotating.open(rotating.reseal("legacy")) == "legacy"
    )

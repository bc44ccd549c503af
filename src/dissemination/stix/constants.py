"""Fixed STIX identifiers: the TLP sets, ACS 3.0, and our own extension definitions.

Pure data: no python-stix2 import, so the profile loader can read it.
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = [
    "ACS_EXTENSION",
    "LABEL_EXTENSION",
    "PARTS_EXTENSION",
    "PRODUCER_IDENTITY",
    "SUBJECT_TYPE",
    "TLP1_IDS",
    "TLP2_EXTENSION",
    "TLP2_IDS",
    "TLP_LEVELS",
    "TlpLevel",
    "tlp_rank",
]

TlpLevel = Literal["clear", "green", "amber", "amber+strict", "red"]
"""A TLP 2.0 level (TLP 1.0 `white` is read as `clear`)."""

TLP_LEVELS: Final[tuple[TlpLevel, ...]] = ("clear", "green", "amber", "amber+strict", "red")
"""The TLP 2.0 levels, least restrictive first."""


def tlp_rank(level: TlpLevel) -> int:
    """The position of a TLP level in `TLP_LEVELS` (higher is more restrictive).

    Args:
        level: a TLP 2.0 level.

    Returns:
        0 for `clear` up to 4 for `red`.
    """
    return TLP_LEVELS.index(level)


TLP2_EXTENSION: Final = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
"""The TLP 2.0 extension definition (OASIS cti-stix-common-objects)."""

TLP2_IDS: Final[dict[str, TlpLevel]] = {
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "clear",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "green",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "amber",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "amber+strict",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "red",
}
"""The fixed ids of the TLP 2.0 marking definitions."""

TLP1_IDS: Final[dict[str, TlpLevel]] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "clear",  # TLP:WHITE
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
}
"""The fixed ids of the TLP 1.0 marking definitions (STIX 2.1 §7.2.1.4)."""

ACS_EXTENSION: Final = "extension-definition--3a65884d-005a-4290-8335-cb2d778a83ce"
"""The ACS 3.0 marking extension definition (OASIS cti-stix-common-objects)."""

LABEL_EXTENSION: Final = "extension-definition--cf73713f-684d-42b4-a7fd-19bb349496a7"
"""Ours: a property extension of a marking definition carrying a dissemination label."""

PARTS_EXTENSION: Final = "extension-definition--facf7fa2-ac5f-4b72-a53d-2ae756467bd7"
"""Ours: portion and subject details (property extension), and the subject SCO (new-sco)."""

PRODUCER_IDENTITY: Final = "identity--3981b804-ea2a-454a-ab25-662407b0b003"
"""The identity that creates our extension definitions (`dissemination`)."""

SUBJECT_TYPE: Final = "dissemination-subject"
"""Our SCO type for subjects STIX has no type for (vehicle, container, vessel...)."""

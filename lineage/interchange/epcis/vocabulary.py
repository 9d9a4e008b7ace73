"""The words of EPCIS and of its Core Business Vocabulary (CBV 2.0) that the readers and the
writer share: event and document types, actions, and each CBV vocabulary with the URN and web URI
prefixes its words are also written with."""

from __future__ import annotations

from typing import Any


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransformationEvent",
    "TransactionEvent",
    "AssociationEvent",
)
DOCUMENT_TYPES = ("EPCISDocument", "EPCISQueryDocument")
ACTIONS = ("ADD", "OBSERVE", "DELETE")

BIZ_STEPS = words(
    """
    accepting arriving assembling collecting commissioning consigning creating_class_instance
    cycle_counting decommissioning departing destroying disassembling dispensing encoding
    entering_exiting holding inspecting installing killing loading other packing picking receiving
    removing repackaging repairing replacing reserving retail_selling sampling sensor_reporting
    shipping staging_outbound stock_taking stocking storing transporting unloading unpacking
    void_shipping
    """
)
DISPOSITIONS = words(
    """
    active available completeness_inferred completeness_verified conformant container_closed
    container_open damaged destroyed dispensed disposed encoded expired in_progress in_transit
    inactive mismatch_class mismatch_instance mismatch_quantity needs_replacement no_pedigree_match
    non_conformant non_sellable_other partially_dispensed recalled reserved retail_sold returned
    sellable_accessible sellable_not_accessible stolen unavailable unknown
    """
)
SOURCE_TYPES = frozenset(("owning_party", "possessing_party", "location"))
BIZ_TRANSACTION_TYPES = words(
    """
    bol cert desadv inv pedigree po poc prodorder recadv rma testprd testres upevt
    """
)
ERROR_REASONS = frozenset(("did_not_occur", "incorrect_data"))

#: Where each CBV vocabulary is written as a URN (EPCIS XML) or a web URI, and its words.
CBV_FORMS = {
    "bizstep": ("BizStep", BIZ_STEPS),
    "disp": ("Disp", DISPOSITIONS),
    "sdt": ("SDT", SOURCE_TYPES),
    "btt": ("BTT", BIZ_TRANSACTION_TYPES),
    "er": ("ER", ERROR_REASONS),
}


def cbv_word(value: Any, vocabulary: str) -> Any:
    """A CBV value as its bare word (``shipping``), where it is written as the vocabulary's URN
    (``urn:epcglobal:cbv:bizstep:shipping``, as XML writes it), web URI or its CURIE
    (``cbv:BizStep-shipping``) and the word is the CBV's;
    anything else as it is, for the checks."""
    if not isinstance(value, str):
        return value
    web, words = CBV_FORMS[vocabulary]
    for prefix in (f"urn:epcglobal:cbv:{vocabulary}:", f"https://ref.gs1.org/cbv/{web}-", f"cbv:{web}-"):
        if value.startswith(prefix) and value[len(prefix) :] in words:
            return value[len(prefix) :]
    return value

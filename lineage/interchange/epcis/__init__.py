"""EPCIS documents: read and checked against the standard (:mod:`.document`), then mapped to the
records every other input becomes (:mod:`.mapping`)."""

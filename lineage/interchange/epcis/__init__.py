"""EPCIS documents: read (JSON-LD, and XML through :mod:`.xml`) and checked against the standard
(:mod:`.document`, with the words of :mod:`.vocabulary`), mapped to the records every other input
becomes (:mod:`.mapping`), and written out again (:mod:`.export`)."""

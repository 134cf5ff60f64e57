"""Landing: batches into the raw schema, with quarantine and idempotent reruns."""

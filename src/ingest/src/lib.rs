//! hakobune-ingest (under construction).

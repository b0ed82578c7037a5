//! hakobune-mllp (under construction).

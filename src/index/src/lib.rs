//! hakobune-index (under construction).

//! hakobune-config (under construction).

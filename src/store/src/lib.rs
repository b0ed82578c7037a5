//! hakobune-store (under construction).

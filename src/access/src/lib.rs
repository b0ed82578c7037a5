//! hakobune-access (under construction).

//! hakobune-demo (under construction).

//! hakobune-api (under construction).

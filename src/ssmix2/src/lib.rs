//! hakobune-ssmix2 (under construction).

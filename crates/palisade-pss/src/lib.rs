//! palisade-pss

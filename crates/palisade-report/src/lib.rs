//! palisade-report

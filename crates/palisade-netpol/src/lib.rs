//! palisade-netpol

//! palisade-rbac

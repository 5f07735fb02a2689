use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, Emit, EventCx, EventRule};

declare_rule! {
    /// A burst of failed requests from one user and address.
    pub struct AuthFailureSpike;
    checks: Event,
    id: "EVT010",
    slug: "audit-auth-failure-spike",
    title: "Spike of failed authentications or authorizations",
    severity: Severity::High,
    category: "event",
    kinds: &["Event"],
    summary: "10 or more requests answered 401 (not authenticated) or 403 (forbidden) for one \
user from one source address within 60 seconds. Reported once per burst, on the request that \
reaches the count.",
    rationale: "Password spraying, a leaked token being tried against every resource, and an \
attacker mapping what a stolen service account may do all show up as a run of failures from \
one identity and address. The hardening guides ask for an alert on exactly this.",
    remediation: "Look at the user and the address: revoke the token or certificate if it is \
not expected to be used from there, and block the address.",
    references: &[
        Reference::new(Framework::NsaCisa, "Audit logging and threat detection"),
        Reference::url(Framework::Mitre, "T1110", "https://attack.mitre.org/techniques/T1110/"),
    ],
    fix: None,
}

impl EventRule for AuthFailureSpike {
    fn check_event(&self, cx: &EventCx<'_>, out: &mut Vec<Emit>) {
        if let Some(spike) = cx.failure_spike {
            out.push(Emit::new(
                "/responseStatus/code",
                format!(
                    "{} failed requests (401/403) by user {} from {} within {}s",
                    spike.failures,
                    spike.user,
                    if spike.source_ip.is_empty() {
                        "an unknown address"
                    } else {
                        &spike.source_ip
                    },
                    spike.window_secs
                ),
            ));
        }
    }
}

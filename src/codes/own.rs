//! The default return codes of rblkit's own lists.

use super::{CodeLayout, CodeScheme, ListError, Reason, ReasonSet, ReturnCode};
use Reason::*;

const fn c(a: u8, b: u8, c: u8, d: u8) -> ReturnCode {
    ReturnCode::new_assert(a, b, c, d)
}

const fn r(reason: Reason) -> ReasonSet {
    ReasonSet::EMPTY.with(reason)
}

/// The default codes of an rblkit IP or address list: one `127.0.0.x` per reason, so an
/// answer with several A records says every reason (ZEN-style). A reason with no code of its
/// own (one added to [`Reason`] later, or an allowlist's trust level) is said by
/// `127.0.0.127`. Spamhaus' error codes are kept free.
///
/// | code | reason | | code | reason |
/// | --- | --- | --- | --- | --- |
/// | `127.0.0.2` | `spam_source` | | `127.0.0.20` | `rate_limit` |
/// | `127.0.0.3` | `spam_trap` | | `127.0.0.21` | `sender_rotation` |
/// | `127.0.0.4` | `exploited` | | `127.0.0.22` | `nonexistent_recipients` |
/// | `127.0.0.5` | `open_relay` | | `127.0.0.23` | `web_form_abuse` |
/// | `127.0.0.6` | `open_proxy` | | `127.0.0.24` | `repetitive_mail` |
/// | `127.0.0.7` | `spam_operation` | | `127.0.0.25` | `bulk` (marketing) |
/// | `127.0.0.8` | `snowshoe` | | `127.0.0.26` | `spf_not_authorized` |
/// | `127.0.0.9` | `hijacked` | | `127.0.0.27` | `forged_sender` |
/// | `127.0.0.10` | `dynamic` | | `127.0.0.28` | `invalid_sender` |
/// | `127.0.0.11` | `poor_reputation` | | `127.0.0.29` | `undeliverable_recipient` |
/// | `127.0.0.12` | `network_reputation` | | `127.0.0.30` | `mailbombing` |
/// | `127.0.0.13` | `botnet_cc` | | `127.0.0.31` | `kept_sending` |
/// | `127.0.0.14` | `phishing` | | `127.0.0.100` | `manual` |
/// | `127.0.0.15` | `malware` | | `127.0.0.101` | `third_party` |
/// | | | | `127.0.0.127` | `listed` (fallback) |
///
/// # Examples
///
/// ```
/// use rblkit::codes::{Reason, ReasonSet, ReturnCode, OWN_IP};
/// let codes = OWN_IP.encode(ReasonSet::of(&[Reason::SpamTrap, Reason::RateLimit]));
/// assert_eq!(codes, [ReturnCode::new_assert(127, 0, 0, 3), ReturnCode::new_assert(127, 0, 0, 20)]);
/// ```
pub static OWN_IP: CodeScheme = CodeScheme::from_static(
    CodeLayout::OnePerReason,
    c(127, 0, 0, 127),
    &[
        (c(127, 0, 0, 2), r(SpamSource)),
        (c(127, 0, 0, 3), r(SpamTrap)),
        (c(127, 0, 0, 4), r(Exploited)),
        (c(127, 0, 0, 5), r(OpenRelay)),
        (c(127, 0, 0, 6), r(OpenProxy)),
        (c(127, 0, 0, 7), r(SpamOperation)),
        (c(127, 0, 0, 8), r(Snowshoe)),
        (c(127, 0, 0, 9), r(Hijacked)),
        (c(127, 0, 0, 10), r(Dynamic)),
        (c(127, 0, 0, 11), r(PoorReputation)),
        (c(127, 0, 0, 12), r(NetworkReputation)),
        (c(127, 0, 0, 13), r(BotnetCc)),
        (c(127, 0, 0, 14), r(Phishing)),
        (c(127, 0, 0, 15), r(Malware)),
        (c(127, 0, 0, 20), r(RateLimit)),
        (c(127, 0, 0, 21), r(SenderRotation)),
        (c(127, 0, 0, 22), r(NonexistentRecipients)),
        (c(127, 0, 0, 23), r(WebFormAbuse)),
        (c(127, 0, 0, 24), r(RepetitiveMail)),
        (c(127, 0, 0, 25), r(Bulk)),
        (c(127, 0, 0, 26), r(SpfNotAuthorized)),
        (c(127, 0, 0, 27), r(ForgedSender)),
        (c(127, 0, 0, 28), r(InvalidSender)),
        (c(127, 0, 0, 29), r(UndeliverableRecipient)),
        (c(127, 0, 0, 30), r(Mailbombing)),
        (c(127, 0, 0, 31), r(KeptSending)),
        (c(127, 0, 0, 100), r(Manual)),
        (c(127, 0, 0, 101), r(ThirdParty)),
        (c(127, 0, 0, 127), r(Listed)),
    ],
    &[],
);

/// The default codes of an rblkit domain list: one `127.0.1.x` per reason, with DBL's codes
/// where DBL has the reason; `127.0.1.127` says a reason with no code of its own.
///
/// | code | reason | | code | reason |
/// | --- | --- | --- | --- | --- |
/// | `127.0.1.2` | `spam_domain` | | `127.0.1.11` | `disposable_domain` |
/// | `127.0.1.4` | `phishing` | | `127.0.1.12` | `click_tracker` |
/// | `127.0.1.5` | `malware` | | `127.0.1.26` | `spf_not_authorized` |
/// | `127.0.1.6` | `botnet_cc` | | `127.0.1.27` | `forged_sender` |
/// | `127.0.1.7` | `redirector` | | `127.0.1.28` | `invalid_sender` |
/// | `127.0.1.8` | `compromised` | | `127.0.1.29` | `undeliverable_recipient` |
/// | `127.0.1.9` | `newly_observed` | | `127.0.1.100` | `manual` |
/// | `127.0.1.10` | `bulk` (marketing) | | `127.0.1.101` | `third_party` |
/// | | | | `127.0.1.127` | `listed` (fallback) |
///
/// `127.0.1.255` answers a query for an IP address, as DBL does.
///
/// # Examples
///
/// ```
/// use rblkit::codes::{Reason, ReasonSet, ReturnCode, OWN_DOMAIN};
/// assert_eq!(OWN_DOMAIN.encode(Reason::Phishing.into()), [ReturnCode::new_assert(127, 0, 1, 4)]);
/// ```
pub static OWN_DOMAIN: CodeScheme = CodeScheme::from_static(
    CodeLayout::OnePerReason,
    c(127, 0, 1, 127),
    &[
        (c(127, 0, 1, 2), r(SpamDomain)),
        (c(127, 0, 1, 4), r(Phishing)),
        (c(127, 0, 1, 5), r(Malware)),
        (c(127, 0, 1, 6), r(BotnetCc)),
        (c(127, 0, 1, 7), r(Redirector)),
        (c(127, 0, 1, 8), r(Compromised)),
        (c(127, 0, 1, 9), r(NewlyObserved)),
        (c(127, 0, 1, 10), r(Bulk)),
        (c(127, 0, 1, 11), r(DisposableDomain)),
        (c(127, 0, 1, 12), r(ClickTracker)),
        (c(127, 0, 1, 26), r(SpfNotAuthorized)),
        (c(127, 0, 1, 27), r(ForgedSender)),
        (c(127, 0, 1, 28), r(InvalidSender)),
        (c(127, 0, 1, 29), r(UndeliverableRecipient)),
        (c(127, 0, 1, 100), r(Manual)),
        (c(127, 0, 1, 101), r(ThirdParty)),
        (c(127, 0, 1, 127), r(Listed)),
    ],
    &[(c(127, 0, 1, 255), ListError::BadQuery)],
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_schemes_are_valid_and_one_code_per_reason() {
        for s in [&OWN_IP, &OWN_DOMAIN] {
            assert_eq!(&s.to_string().parse::<CodeScheme>().unwrap(), s);
            for (i, e) in s.entries().iter().enumerate() {
                assert_eq!(e.1.len(), 1, "{s}");
                assert!(s.entries()[..i].iter().all(|o| o.1 != e.1), "{s}: {}", e.1);
            }
        }
        // every reason that is not an allowlist trust level has its own IP code
        for &reason in Reason::ALL {
            let code = OWN_IP.encode(reason.into());
            let trust = matches!(reason, TrustNone | TrustLow | TrustMedium | TrustHigh);
            let domain_only = matches!(
                reason,
                SpamDomain
                    | Compromised
                    | Redirector
                    | NewlyObserved
                    | DisposableDomain
                    | ClickTracker
            );
            assert_eq!(
                code == [OWN_IP.fallback()],
                trust || domain_only || reason == Listed,
                "{reason}"
            );
        }
    }
}

//! Intake: `Received` chains from the major MTAs, forwarded reports, ARF feedback reports.

use rblkit::intake::{
    find_source, Hop, Intake, IntakeConfig, Note, ReportKind, SenderDomains, SourceSearch,
    SpecialSources, TrustedNetworks,
};
use rblkit::ledger::Evidence;
use rblkit::Timestamp;
use std::net::IpAddr;

/// One row: a name, the `Received` values (topmost first), trusted networks, whether
/// special-purpose sources are allowed, and the expected source.
struct Case {
    name: &'static str,
    received: &'static [&'static str],
    trusted: &'static str,
    allow_special: bool,
    source: Option<&'static str>,
}

const fn case(
    name: &'static str,
    received: &'static [&'static str],
    trusted: &'static str,
    source: Option<&'static str>,
) -> Case {
    Case {
        name,
        received,
        trusted,
        allow_special: false,
        source,
    }
}

const fn case_private(
    name: &'static str,
    received: &'static [&'static str],
    trusted: &'static str,
    source: Option<&'static str>,
) -> Case {
    Case {
        name,
        received,
        trusted,
        allow_special: true,
        source,
    }
}

const CASES: &[Case] = &[
    // ---- Postfix ----
    case("postfix plain", &[
        "from mail.sender.example (mail.sender.example [93.184.216.34]) by mx.ourlist.example (Postfix) with ESMTPS id 4Fq2xK1z3Vz9sWQ for <trap@ourlist.example>; Tue, 1 Dec 2026 10:00:00 +0000 (UTC)",
    ], "", Some("93.184.216.34")),
    case("postfix unknown rdns", &[
        "from helo.forged.example (unknown [185.220.101.4]) by mx.ourlist.example (Postfix) with ESMTP id 1A2B3C; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("185.220.101.4")),
    case("postfix helo literal is not the address", &[
        "from [10.9.9.9] (unknown [185.220.101.5]) by mx.ourlist.example (Postfix) with ESMTP id 1A2B3D; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("185.220.101.5")),
    case("postfix helo claims a public literal", &[
        "from [8.8.8.8] (dsl-77-12.isp.example [77.12.34.56]) by mx.ourlist.example (Postfix) with SMTP id 99; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("77.12.34.56")),
    case("postfix ipv6", &[
        "from mail.v6.example (mail.v6.example [IPv6:2a01:4f8:c17:1::2]) by mx.ourlist.example (Postfix) with ESMTPS id 4F; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("2a01:4f8:c17:1::2")),
    case("postfix ipv4-mapped ipv6", &[
        "from mail.mapped.example (mail.mapped.example [IPv6:::ffff:91.198.174.192]) by mx.ourlist.example (Postfix) with ESMTP id 4G; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("91.198.174.192")),
    case("postfix amavis reinjection on top", &[
        "from localhost (localhost [127.0.0.1]) by mx.ourlist.example (Postfix) with ESMTP id AAA1; Tue, 1 Dec 2026 10:00:02 +0000",
        "from mx.ourlist.example ([127.0.0.1]) by localhost (mx.ourlist.example [127.0.0.1]) (amavisd-new, port 10024) with ESMTP id 3x; Tue, 1 Dec 2026 10:00:01 +0000",
        "from bulk.spam.example (bulk.spam.example [45.95.147.10]) by mx.ourlist.example (Postfix) with ESMTP id BBB2; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("45.95.147.10")),
    case("postfix trusted relay then source", &[
        "from relay.ourlist.example (relay.ourlist.example [198.51.100.25]) by mx2.ourlist.example (Postfix) with ESMTPS id C1; Tue, 1 Dec 2026 10:00:01 +0000",
        "from spammer.example (spammer.example [103.21.244.9]) by relay.ourlist.example (Postfix) with ESMTP id C0; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "198.51.100.0/24", Some("103.21.244.9")),
    case("without trusted networks the top hop decides", &[
        "from relay.partner.example (relay.partner.example [64.233.160.5]) by mx.ourlist.example (Postfix) with ESMTPS id C1; Tue, 1 Dec 2026 10:00:01 +0000",
        "from spammer.example (spammer.example [103.21.244.9]) by relay.partner.example (Postfix) with ESMTP id C0; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("64.233.160.5")),
    case("forged lines below the boundary do not matter", &[
        "from bot.example (unknown [179.43.128.2]) by mx.ourlist.example (Postfix) with SMTP id D1; Tue, 1 Dec 2026 10:00:00 +0000",
        "from innocent.example (innocent.example [1.1.1.1]) by mail.innocent.example (Postfix) with ESMTP id FAKE; Tue, 1 Dec 2026 09:00:00 +0000",
    ], "", Some("179.43.128.2")),
    case("postfix authenticated submission", &[
        "from [192.168.1.20] (p5dd0a1b2.dip0.t-ipconnect.example [93.208.161.178]) (Authenticated sender: alice@ourlist.example) by smtp.ourlist.example (Postfix) with ESMTPSA id E1; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("93.208.161.178")),
    case("postfix with port in comment", &[
        "from client.example (client.example [151.101.1.69]:54321) by mx.ourlist.example (Postfix) with ESMTP id F1; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("151.101.1.69")),
    case("postfix trusted ipv6 relay", &[
        "from relay6.ourlist.example (relay6.ourlist.example [IPv6:2001:67c:2e8::25]) by mx.ourlist.example (Postfix) with ESMTPS id G1; Tue, 1 Dec 2026 10:00:01 +0000",
        "from mail.attacker.example (mail.attacker.example [IPv6:2a0b:f4c0:16c:3::1]) by relay6.ourlist.example (Postfix) with ESMTPS id G0; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "2001:67c:2e8::/48", Some("2a0b:f4c0:16c:3::1")),
    // ---- Sendmail ----
    case("sendmail", &[
        "from mail.s.example (mail.s.example [208.80.154.224]) by mx.ourlist.example (8.17.1/8.17.1) with ESMTPS id 5B1A0b9x012345 (version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=NOT) for <trap@ourlist.example>; Tue, 1 Dec 2026 10:00:00 +0100",
    ], "", Some("208.80.154.224")),
    case("sendmail may be forged", &[
        "from helo.example (host-17.provider.example [196.49.8.17] (may be forged)) by mx.ourlist.example (8.15.2/8.15.2) with SMTP id 0B1A2B3C; Tue, 1 Dec 2026 10:00:00 +0100",
    ], "", Some("196.49.8.17")),
    case("sendmail ident user", &[
        "from someone.example (user@someone.example [141.101.64.10]) by mx.ourlist.example (8.14.4/8.14.4) with ESMTP id s1; Tue, 1 Dec 2026 10:00:00 -0500",
    ], "", Some("141.101.64.10")),
    case("sendmail local submission then relay", &[
        "from relay.ourlist.example (relay.ourlist.example [198.51.100.3]) by mx.ourlist.example (8.17.1/8.17.1) with ESMTP id x2; Tue, 1 Dec 2026 10:00:01 +0000",
        "(from root@localhost) by relay.ourlist.example (8.17.1/8.17.1/Submit) id x1; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "198.51.100.0/24", None),
    case("sendmail authenticated", &[
        "from laptop.example (cpe-72-182-1-2.isp.example [72.182.1.2]) (authenticated bits=0) by smtp.ourlist.example (8.15.2/8.15.2) with ESMTP id 0B1; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("72.182.1.2")),
    // ---- Exim ----
    case("exim with rdns", &[
        "from mail.e.example ([212.227.15.15]) by mx.ourlist.example with esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384 (Exim 4.96) (envelope-from <b@e.example>) id 1qXyZa-000123-AB for trap@ourlist.example; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("212.227.15.15")),
    case("exim helo differs", &[
        "from dsl.isp.example ([88.99.12.13] helo=friendly.example) by mx.ourlist.example with esmtp (Exim 4.94.2) (envelope-from <x@y.example>) id 1q-0001; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("88.99.12.13")),
    case("exim bare literal with helo", &[
        "from [5.188.206.14] (helo=WIN-CLJ1B0GQ6JP) by mx.ourlist.example with esmtp (Exim 4.96) (envelope-from <spam@x.example>) id 1q-0002; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("5.188.206.14")),
    case("exim bare literal with a literal helo", &[
        "from [5.188.206.15] (helo=[10.0.0.5]) by mx.ourlist.example with esmtp (Exim 4.96) id 1q-0003; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("5.188.206.15")),
    case("exim port", &[
        "from host.example ([46.4.100.200]:41234 helo=host.example) by mx.ourlist.example with esmtps (TLS1.2) tls TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (Exim 4.92) id 1q-4; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("46.4.100.200")),
    case("exim ipv6", &[
        "from mail6.example ([2a00:1450:4864:20::22b]) by mx.ourlist.example with esmtps (TLS1.3) (Exim 4.96) id 1q-5; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("2a00:1450:4864:20::22b")),
    case("exim authenticated", &[
        "from [82.13.14.15] (helo=[192.168.0.10]) by smtp.ourlist.example with esmtpsa (TLS1.3) tls TLS_AES_128_GCM_SHA256 (Exim 4.96) (envelope-from <alice@ourlist.example>) id 1q-6; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("82.13.14.15")),
    case("exim local delivery from user", &[
        "from www-data by web.ourlist.example with local (Exim 4.96) (envelope-from <www-data@web.ourlist.example>) id 1q-7; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", None),
    // ---- qmail ----
    case("qmail network", &[
        "from unknown (HELO mail.q.example) (62.210.16.61) by mx.ourlist.example with SMTP; 1 Dec 2026 10:00:00 -0000",
    ], "", Some("62.210.16.61")),
    case("qmail rdns and helo", &[
        "from ns1.q.example (HELO helo.q.example) (62.210.16.62) by mx.ourlist.example with ESMTP; 1 Dec 2026 10:00:00 -0000",
    ], "", Some("62.210.16.62")),
    case("qmail bracketed", &[
        "from unknown (HELO [10.1.1.1]) ([62.210.16.63]) by mx.ourlist.example with SMTP; 1 Dec 2026 10:00:00 -0000",
    ], "", Some("62.210.16.63")),
    case("qmail invoked from network then relay", &[
        "(qmail 12345 invoked from network); 1 Dec 2026 10:00:01 -0000",
        "from unknown (HELO x) (37.49.230.12) by mx.ourlist.example with SMTP; 1 Dec 2026 10:00:00 -0000",
    ], "", Some("37.49.230.12")),
    case("qmail invoked by uid only", &[
        "(qmail 4321 invoked by uid 89); 1 Dec 2026 10:00:00 -0000",
    ], "", None),
    // ---- Courier ----
    case("courier", &[
        "from smtp.c.example (smtp.c.example [::ffff:94.130.20.21]) (TLS: TLSv1.3,256bits,TLS_AES_256_GCM_SHA384) by mx.ourlist.example with ESMTPS; Tue, 01 Dec 2026 10:00:00 +0000 id 0000000A.1",
    ], "", Some("94.130.20.21")),
    // ---- Microsoft Exchange / Outlook.com ----
    case("exchange on premises internal then edge", &[
        "from EXCH02.corp.example (10.20.30.41) by EXCH01.corp.example (10.20.30.40) with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384) id 15.1.2507.6; Tue, 1 Dec 2026 10:00:01 +0000",
        "from mail.outside.example (185.12.45.6) by EXCH02.corp.example (10.20.30.41) with Microsoft SMTP Server id 15.1.2507.6 via Frontend Transport; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("185.12.45.6")),
    case("exchange online", &[
        "from AM6PR10MB2711.EURPRD10.PROD.OUTLOOK.COM (2603:10a6:20b:ab::19) by DB9PR10MB5500.EURPRD10.PROD.OUTLOOK.COM with HTTPS; Tue, 1 Dec 2026 10:00:02 +0000",
        "from AS9PR06CA0077.eurprd06.prod.outlook.com (2603:10a6:20b:464::17) by AM6PR10MB2711.EURPRD10.PROD.OUTLOOK.COM (2603:10a6:20b:ab::19) with Microsoft SMTP Server (version=TLS1_2) id 15.20.7; Tue, 1 Dec 2026 10:00:01 +0000",
        "from mail.sender.example (193.0.6.139) by AS9PR06CA0077.outlook.office365.com (2603:10a6:20b:464::17) with Microsoft SMTP Server (version=TLS1_3) id 15.20.7 via Frontend Transport; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "2603:10a6::/32", Some("193.0.6.139")),
    case("exchange smtpsvc", &[
        "from mail.old.example ([213.133.99.17]) by mx.ourlist.example with Microsoft SMTPSVC(6.0.3790.4675); Tue, 1 Dec 2026 10:00:00 +0100",
    ], "", Some("213.133.99.17")),
    case("exchange mail pickup service", &[
        "from mail pickup service by mx.ourlist.example with Microsoft SMTPSVC; Tue, 1 Dec 2026 10:00:00 +0100",
    ], "", None),
    // ---- Gmail ----
    case("gmail inbound", &[
        "by 2002:a05:6520:2b0c:b0:2b1:1f3b:7a2a with SMTP id x12csp1234567lkb; Tue, 1 Dec 2026 02:00:01 -0800 (PST)",
        "from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41]) by mx.google.com with SMTPS id a1sor123456ljb.3 for <victim@gmail.example> (Google Transport Security); Tue, 01 Dec 2026 02:00:00 -0800 (PST)",
    ], "", Some("209.85.220.41")),
    case("gmail authenticated submission from a phone", &[
        "from [10.137.0.5] ([2a02:8108:1dc0:4d7c::1]) by smtp.gmail.com with ESMTPSA id q12sm1234567ejx.1 for <x@y.example> (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256); Tue, 01 Dec 2026 02:00:00 -0800 (PST)",
    ], "", Some("2a02:8108:1dc0:4d7c::1")),
    case("gmail internal hops with google trusted", &[
        "by 2002:a17:906:1b0e:b0:9a1:c3b4:1e2f with SMTP id o14csp99lkd; Tue, 1 Dec 2026 02:00:02 -0800 (PST)",
        "from mail-wm1-f45.google.com (mail-wm1-f45.google.com. [209.85.128.45]) by mx.google.com with SMTPS id b5sor; Tue, 01 Dec 2026 02:00:01 -0800 (PST)",
        "from [192.168.178.20] (dynamic-046-114-011-022.46.114.pool.telefonica.example. [46.114.11.22]) by smtp.gmail.com with ESMTPSA id v9sm; Tue, 01 Dec 2026 02:00:00 -0800 (PST)",
    ], "209.85.128.0/17", Some("46.114.11.22")),
    // ---- Yahoo / others ----
    case("yahoo", &[
        "from 66.163.191.150 by atlas101.free.mail.ne1.yahoo.example with HTTP; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("66.163.191.150")),
    case("bare literal without comment", &[
        "from [141.94.77.3] by mx.ourlist.example (Postfix) with ESMTP id H1; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("141.94.77.3")),
    case("opensmtpd", &[
        "from mail.o.example (mail.o.example [51.15.79.12]) by mx.ourlist.example (OpenSMTPD) with ESMTPS id 7a1b2c3d (TLSv1.3:TLS_AES_256_GCM_SHA384:256:NO) for <trap@ourlist.example>; Tue, 1 Dec 2026 10:00:00 +0000 (UTC)",
    ], "", Some("51.15.79.12")),
    case("haraka", &[
        "from bulk.h.example (bulk.h.example [159.203.10.20]) by mx.ourlist.example (Haraka/3.0.2) with ESMTPS id 1F2E3D4C-5B6A envelope-from <x@h.example> (cipher=TLS_AES_256_GCM_SHA384); Tue, 01 Dec 2026 10:00:00 +0000",
    ], "", Some("159.203.10.20")),
    case("mdaemon style", &[
        "from mail.m.example by mx.ourlist.example (MDaemon PRO v21.0.2) with ESMTP id md50012345678.msg for <trap@ourlist.example>; Tue, 01 Dec 2026 10:00:00 +0100",
    ], "", None),
    case("lowercase and extra spaces", &[
        "FROM   mail.x.example   (mail.x.example    [178.63.52.7])   BY   mx.ourlist.example   (Postfix)   WITH   ESMTP   ID   Z9 ;  Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("178.63.52.7")),
    case("folded header", &[
        "from mail.fold.example (mail.fold.example\r\n\t[185.199.108.153]) by mx.ourlist.example\r\n (Postfix) with ESMTPS id J1;\r\n Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("185.199.108.153")),
    // ---- trust boundaries, special-purpose addresses ----
    case("private relay passed over by default", &[
        "from gw.lan.example (gw.lan.example [192.168.10.1]) by mail.lan.example (Postfix) with ESMTP id K2; Tue, 1 Dec 2026 10:00:01 +0000",
        "from ext.example (ext.example [104.16.132.229]) by gw.lan.example (Postfix) with ESMTP id K1; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("104.16.132.229")),
    case_private("private relay is the source when allowed", &[
        "from gw.lan.example (gw.lan.example [192.168.10.1]) by mail.lan.example (Postfix) with ESMTP id K2; Tue, 1 Dec 2026 10:00:01 +0000",
        "from ext.example (ext.example [104.16.132.229]) by gw.lan.example (Postfix) with ESMTP id K1; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("192.168.10.1")),
    case_private("loopback test source allowed", &[
        "from test.example (localhost [127.0.0.9]) by mx.ourlist.example (Postfix) with ESMTP id L1; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("127.0.0.9")),
    case_private("trusted loopback with special allowed", &[
        "from localhost (localhost [127.0.0.1]) by mx.ourlist.example (Postfix) with ESMTP id L2; Tue, 1 Dec 2026 10:00:01 +0000",
        "from test.example (test.example [127.0.0.9]) by mx.ourlist.example (Postfix) with ESMTP id L1; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "127.0.0.1", Some("127.0.0.9")),
    case("every hop trusted", &[
        "from a.ourlist.example (a.ourlist.example [198.51.100.1]) by b.ourlist.example (Postfix) with ESMTP id M2; Tue, 1 Dec 2026 10:00:01 +0000",
        "from c.ourlist.example (c.ourlist.example [198.51.100.2]) by a.ourlist.example (Postfix) with ESMTP id M1; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "198.51.100.0/24", None),
    case("only special-purpose hops", &[
        "from a (a [10.0.0.1]) by b (Postfix) with ESMTP id N2; Tue, 1 Dec 2026 10:00:01 +0000",
        "from c (c [172.16.5.5]) by a (Postfix) with ESMTP id N1; Tue, 1 Dec 2026 10:00:00 +0000",
        "from d (d [100.64.1.1]) by c (Postfix) with ESMTP id N0; Tue, 1 Dec 2026 09:59:59 +0000",
    ], "", None),
    case("documentation addresses are special-purpose", &[
        "from doc.example (doc.example [192.0.2.55]) by mx.ourlist.example (Postfix) with ESMTP id O1; Tue, 1 Dec 2026 10:00:00 +0000",
        "from real.example (real.example [31.13.64.35]) by doc.example (Postfix) with ESMTP id O0; Tue, 1 Dec 2026 09:00:00 +0000",
    ], "", Some("31.13.64.35")),
    case("link-local ipv6 passed over", &[
        "from lan6 (lan6 [IPv6:fe80::1]) by mx.ourlist.example (Postfix) with ESMTP id P1; Tue, 1 Dec 2026 10:00:01 +0000",
        "from ula6 (ula6 [IPv6:fd12:3456:789a::1]) by lan6 (Postfix) with ESMTP id P0; Tue, 1 Dec 2026 10:00:00 +0000",
        "from real6 (real6 [IPv6:2606:4700::6810:84e5]) by ula6 (Postfix) with ESMTP id P00; Tue, 1 Dec 2026 09:59:00 +0000",
    ], "", Some("2606:4700::6810:84e5")),
    case("trusted single address", &[
        "from backup-mx.ourlist.example (backup-mx.ourlist.example [203.0.113.10]) by mx.ourlist.example (Postfix) with ESMTP id Q1; Tue, 1 Dec 2026 10:00:01 +0000",
        "from x.example (x.example [80.82.77.33]) by backup-mx.ourlist.example (Postfix) with ESMTP id Q0; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "203.0.113.10", Some("80.82.77.33")),
    case("hop without address inside the trusted part is skipped", &[
        "from relay.ourlist.example (relay.ourlist.example [198.51.100.7]) by mx.ourlist.example (Postfix) with ESMTP id R2; Tue, 1 Dec 2026 10:00:02 +0000",
        "by relay.ourlist.example (Postfix, from userid 1001) id R1; Tue, 1 Dec 2026 10:00:01 +0000",
        "from outside.example (outside.example [94.102.49.190]) by relay.ourlist.example (Postfix) with ESMTP id R0; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "198.51.100.0/24", Some("94.102.49.190")),
    case("garbage header then a good one", &[
        "this is not a received header at all",
        "from spam.example (spam.example [89.248.165.74]) by mx.ourlist.example (Postfix) with ESMTP id S1; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("89.248.165.74")),
    case("unbalanced parentheses", &[
        "from broken.example (broken.example [185.56.80.65] by mx.ourlist.example (Postfix with ESMTP id T1; Tue, 1 Dec 2026 10:00:00 +0000",
    ], "", Some("185.56.80.65")),
    case("empty chain", &[], "", None),
];

fn trusted(s: &str) -> TrustedNetworks {
    s.parse().unwrap()
}

#[test]
fn received_chains_give_the_expected_source() {
    assert!(CASES.len() >= 50, "{} cases", CASES.len());
    let mut failures = Vec::new();
    for c in CASES {
        let hops: Vec<Hop> = c.received.iter().map(|v| Hop::parse(v)).collect();
        let got = match find_source(&hops, &trusted(c.trusted), c.allow_special) {
            SourceSearch::Found { ip, .. } => Some(ip),
            _ => None,
        };
        let want: Option<IpAddr> = c.source.map(|s| s.parse().unwrap());
        if got != want {
            failures.push(format!("{}: got {got:?}, want {want:?}", c.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn hop_fields() {
    let h = Hop::parse(CASES[10].received[0]);
    assert!(h.authenticated());
    assert_eq!(h.protocol(), Some("ESMTPSA"));
    assert_eq!(h.by(), Some("smtp.ourlist.example"));
    let h = Hop::parse("by 2002:a05:6520:2b0c with SMTP id x; Tue, 1 Dec 2026 02:00:01 -0800");
    assert!(!h.has_from());
    assert_eq!(h.ip(), None);
    let h = Hop::parse("from x (x [198.51.100.1]) by y with ESMTP id 1");
    assert!(!h.authenticated());
}

fn at() -> Timestamp {
    "2026-12-01T12:00:00Z".parse().unwrap()
}

const SPAM: &str = "Received: from bulk.spam.example (bulk.spam.example [45.95.147.10]) by mx.ourlist.example (Postfix) with ESMTP id BBB2; Tue, 1 Dec 2026 10:00:00 +0000\r\n\
From: \"Deals\" <offers@spam-sender.example>\r\n\
Return-Path: <bounce@spam-sender.example>\r\n\
To: victim@ourlist.example\r\n\
Subject: Cheap meds\r\n\
Content-Type: text/html; charset=utf-8\r\n\
\r\n\
<html><body><a href=\"http://www.cheap-pills.biz/buy?id=1\">Buy now</a> or visit hxxp://pharma-shop[.]net and https://ourlist.example/unsubscribe</body></html>\r\n";

fn subjects(r: &rblkit::intake::Report) -> Vec<String> {
    r.events.iter().map(|e| e.subject.to_string()).collect()
}

#[test]
fn a_trapped_message_gives_trap_hits_for_source_and_domains() {
    let intake =
        Intake::new(IntakeConfig::default().never_list("ourlist.example".parse().unwrap()));
    let r = intake
        .report(
            SPAM.as_bytes(),
            &ReportKind::trap("trap@ourlist.example"),
            at(),
        )
        .unwrap();
    assert_eq!(
        subjects(&r),
        ["45.95.147.10", "cheap-pills.biz", "pharma-shop.net"]
    );
    assert!(r.events.iter().all(
        |e| matches!(&e.evidence, Evidence::TrapHit { trap } if &**trap == "trap@ourlist.example")
    ));
    assert!(r.events.iter().all(|e| e.at == at()));
    assert!(r
        .notes
        .contains(&Note::NeverListed("ourlist.example".parse().unwrap())));
    assert_eq!(r.source_hop, Some(0));
}

#[test]
fn sender_domains_only_when_asked() {
    let plain = Intake::new(IntakeConfig::default());
    let r = plain
        .report(SPAM.as_bytes(), &ReportKind::trap("t"), at())
        .unwrap();
    assert!(!subjects(&r).contains(&"spam-sender.example".to_string()));
    let with = Intake::new(IntakeConfig::default().sender_domains(SenderDomains::Include));
    let r = with
        .report(SPAM.as_bytes(), &ReportKind::trap("t"), at())
        .unwrap();
    assert!(subjects(&r).contains(&"spam-sender.example".to_string()));
}

fn forwarded(original: &str) -> String {
    format!(
        "Received: from user.pc (user.pc [93.208.161.178]) (Authenticated sender: bob@ourlist.example) by smtp.ourlist.example (Postfix) with ESMTPSA id U1; Tue, 1 Dec 2026 11:00:00 +0000\r\n\
From: bob@ourlist.example\r\n\
To: spam@reports.ourlist.example\r\n\
Subject: Fwd: Cheap meds\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"fwd-1\"\r\n\
\r\n\
--fwd-1\r\n\
Content-Type: text/plain\r\n\
\r\n\
This is spam, see my blog at http://bobs-blog.org/\r\n\
--fwd-1\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
{original}\r\n\
--fwd-1--\r\n"
    )
}

#[test]
fn a_forwarded_report_is_read_from_the_attached_original() {
    let intake = Intake::new(IntakeConfig::default());
    let msg = forwarded(SPAM);
    let r = intake
        .report(msg.as_bytes(), &ReportKind::spam("bob"), at())
        .unwrap();
    let s = subjects(&r);
    assert_eq!(s[0], "45.95.147.10", "{s:?}");
    assert!(s.contains(&"cheap-pills.biz".to_string()));
    assert!(!s.contains(&"bobs-blog.org".to_string()), "{s:?}");
    let fp = r.fingerprint.clone();
    assert!(r.events.iter().all(|e| matches!(&e.evidence,
        Evidence::SpamReport { reporter, fingerprint: Some(f), .. } if &**reporter == "bob" && **f == *fp)));
    // The same message reported directly has the same fingerprint.
    let direct = intake
        .report(SPAM.as_bytes(), &ReportKind::spam("carol"), at())
        .unwrap();
    assert_eq!(direct.fingerprint, fp);
    // Release & train of the same message gives ham reports.
    let ham = intake
        .report(msg.as_bytes(), &ReportKind::ham("bob"), at())
        .unwrap();
    assert!(ham
        .events
        .iter()
        .all(|e| matches!(&e.evidence, Evidence::HamReport { reporter } if &**reporter == "bob")));
    assert_eq!(subjects(&ham), subjects(&r));
}

fn arf(feedback_type: &str, source_ip: Option<&str>, third: &str) -> String {
    let source = source_ip.map_or(String::new(), |ip| format!("Source-IP: {ip}\r\n"));
    format!(
        "From: <staff@fbl.mailbox.example>\r\n\
Date: Tue, 1 Dec 2026 11:00:00 +0000\r\n\
Subject: FW: Earn money\r\n\
To: <abuse@ourlist.example>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=feedback-report;\r\n\tboundary=\"part1_13d.2e68ed54_boundary\"\r\n\
\r\n\
--part1_13d.2e68ed54_boundary\r\n\
Content-Type: text/plain; charset=\"US-ASCII\"\r\n\
Content-Transfer-Encoding: 7bit\r\n\
\r\n\
This is an email abuse report for an email message received from IP 45.95.147.10 on Tue, 1 Dec 2026. For more information about this format please see http://www.mipassoc.example/arf/.\r\n\
\r\n\
--part1_13d.2e68ed54_boundary\r\n\
Content-Type: message/feedback-report\r\n\
\r\n\
Feedback-Type: {feedback_type}\r\n\
User-Agent: SomeGenerator/1.0\r\n\
Version: 1\r\n\
Original-Mail-From: <somespammer@spam-sender.example>\r\n\
Original-Rcpt-To: <user@mailbox.example>\r\n\
Arrival-Date: Tue, 1 Dec 2026 10:00:00 +0000\r\n\
Reporting-MTA: dns; mail.mailbox.example\r\n\
{source}\
Authentication-Results: mail.mailbox.example; spf=fail smtp.mail=somespammer@spam-sender.example\r\n\
Reported-Domain: spam-sender.example\r\n\
Reported-Uri: http://www.earn-money-fast.biz/\r\n\
\r\n\
--part1_13d.2e68ed54_boundary\r\n\
{third}\r\n\
--part1_13d.2e68ed54_boundary--\r\n"
    )
}

#[test]
fn arf_abuse_report_with_the_message_attached() {
    let intake = Intake::new(IntakeConfig::default());
    let third =
        format!("Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n{SPAM}");
    let r = intake
        .report(
            arf("abuse", None, &third).as_bytes(),
            &ReportKind::Arf,
            at(),
        )
        .unwrap();
    let s = subjects(&r);
    assert_eq!(s[0], "45.95.147.10");
    for d in [
        "cheap-pills.biz",
        "earn-money-fast.biz",
        "spam-sender.example",
    ] {
        assert!(s.contains(&d.to_string()), "{d} in {s:?}");
    }
    // The human-readable part's URL is not evidence.
    assert!(!s.iter().any(|x| x.contains("mipassoc")), "{s:?}");
    assert!(r.events.iter().all(|e| matches!(&e.evidence,
        Evidence::SpamReport { reporter, .. } if &**reporter == "mail.mailbox.example")));
}

#[test]
fn arf_source_ip_wins_and_not_spam_is_ham() {
    let intake = Intake::new(IntakeConfig::default());
    let third = format!("Content-Type: message/rfc822\r\n\r\n{SPAM}");
    let r = intake
        .report(
            arf("not-spam", Some("185.220.101.77"), &third).as_bytes(),
            &ReportKind::Arf,
            at(),
        )
        .unwrap();
    assert_eq!(r.source, Some("185.220.101.77".parse().unwrap()));
    assert!(r.notes.contains(&Note::SourceFromArf));
    assert!(r
        .events
        .iter()
        .all(|e| matches!(e.evidence, Evidence::HamReport { .. })));
}

#[test]
fn arf_headers_only() {
    let intake = Intake::new(IntakeConfig::default());
    let headers = SPAM.split("\r\n\r\n").next().unwrap();
    let third = format!("Content-Type: text/rfc822-headers\r\n\r\n{headers}\r\n");
    let r = intake
        .report(
            arf("abuse", None, &third).as_bytes(),
            &ReportKind::Arf,
            at(),
        )
        .unwrap();
    assert_eq!(r.source, Some("45.95.147.10".parse().unwrap()));
    assert!(r.notes.contains(&Note::HeadersOnly));
    let s = subjects(&r);
    assert!(!s.contains(&"cheap-pills.biz".to_string()));
    assert!(s.contains(&"earn-money-fast.biz".to_string()));
}

#[test]
fn arf_special_source_ip_falls_back_to_the_chain() {
    let intake = Intake::new(IntakeConfig::default());
    let third = format!("Content-Type: message/rfc822\r\n\r\n{SPAM}");
    let r = intake
        .report(
            arf("abuse", Some("10.1.2.3"), &third).as_bytes(),
            &ReportKind::Arf,
            at(),
        )
        .unwrap();
    assert_eq!(r.source, Some("45.95.147.10".parse().unwrap()));
    assert!(r
        .notes
        .contains(&Note::ArfSourceSpecial("10.1.2.3".parse().unwrap())));
}

#[test]
fn arf_auth_failure_is_not_evidence() {
    let intake = Intake::new(IntakeConfig::default());
    let third = format!("Content-Type: message/rfc822\r\n\r\n{SPAM}");
    let r = intake
        .report(
            arf("auth-failure", None, &third).as_bytes(),
            &ReportKind::Arf,
            at(),
        )
        .unwrap();
    assert!(r.events.is_empty());
    assert!(matches!(r.notes[0], Note::NotEvidence(_)));
}

#[test]
fn not_an_arf_report_is_an_error() {
    let intake = Intake::new(IntakeConfig::default());
    let e = intake
        .report(SPAM.as_bytes(), &ReportKind::Arf, at())
        .unwrap_err();
    assert!(e.to_string().contains("multipart/report"), "{e}");
}

#[test]
fn hostile_and_odd_messages_get_notes_not_crashes() {
    let intake = Intake::new(IntakeConfig::default().special_sources(SpecialSources::Skip));
    // No Received header.
    let r = intake
        .report(
            b"Subject: x\r\n\r\nsee http://www.spam-domain.com/\r\n",
            &ReportKind::trap("t"),
            at(),
        )
        .unwrap();
    assert!(r.notes.contains(&Note::NoReceived));
    assert_eq!(subjects(&r), ["spam-domain.com"]);
    // All headers, no body.
    let r = intake
        .report(
            b"Received: from a (a [45.95.147.10]) by b with SMTP id 1\r\nSubject: x\r\n",
            &ReportKind::trap("t"),
            at(),
        )
        .unwrap();
    assert!(r.notes.contains(&Note::NoBody));
    assert_eq!(subjects(&r), ["45.95.147.10"]);
    // Nothing at all.
    let r = intake.report(b"", &ReportKind::trap("t"), at()).unwrap();
    assert!(r.notes.contains(&Note::NothingFound));
    // Broken MIME: an unterminated multipart.
    let r = intake
        .report(b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhttp://a.spam-domain.com/", &ReportKind::spam("r"), at())
        .unwrap();
    assert_eq!(subjects(&r), ["spam-domain.com"]);
    // Empty identifiers.
    assert!(intake.report(b"", &ReportKind::trap(" "), at()).is_err());
    // Over the limit.
    let small = Intake::new(IntakeConfig::default().max_message_bytes(8));
    assert!(small
        .report(SPAM.as_bytes(), &ReportKind::trap("t"), at())
        .is_err());
}

#[test]
fn deep_nesting_is_bounded() {
    let mut msg = String::from("Content-Type: multipart/mixed; boundary=b0\r\n\r\n");
    for i in 0..200 {
        msg.push_str(&format!(
            "--b{i}\r\nContent-Type: multipart/mixed; boundary=b{}\r\n\r\n",
            i + 1
        ));
    }
    msg.push_str("http://deep.example.com/\r\n");
    let intake = Intake::new(IntakeConfig::default());
    let r = intake
        .report(msg.as_bytes(), &ReportKind::spam("r"), at())
        .unwrap();
    assert!(
        r.notes.iter().any(|n| matches!(n, Note::Extraction(_))),
        "{:?}",
        r.notes
    );
}

#[test]
fn trusted_networks_round_trip() {
    let t: TrustedNetworks = "10.0.0.0/8 192.0.2.1,2001:db8::/32".parse().unwrap();
    assert_eq!(t.to_string(), "10.0.0.0/8, 192.0.2.1/32, 2001:db8::/32");
    assert_eq!(t.to_string().parse::<TrustedNetworks>().unwrap(), t);
    let e = "10.0.0.0/8 nonsense"
        .parse::<TrustedNetworks>()
        .unwrap_err();
    assert!(e.to_string().contains("offset 11"), "{e}");
}

// The schema definitions that hand-written types replace in the generated
// model: the one list of them.
//
// This file is included twice, each time under its own `hand_written!`
// macro: by `build/hand_written.rs`, which replaces each definition with
// its type when running typify and fails the build when a definition in
// `schema/` no longer equals the text pinned here; and by
// `src/model/scalar.rs`, which defines the text types, the words that
// explain a refusal, and the list the pattern matchers are tested against.
//
// A pattern row pins the exact regular expression its matcher in
// `pattern.rs` was proven against (the definition is `{"type": "string",
// "pattern": ...}`) and says how two texts compare (`meaning.rs`: as text,
// or by the UUID or instant they denote); a format row pins the format its
// check asserts; a
// value row pins the whole definition (without its description) of a type
// written by hand in `scalar.rs`. `Version` is not here: it is the
// `Version` type generated from the drafts.

hand_written! {
    patterns {
        /// A UUID as written in the message (`8-4-4-4-12` hex digits, either
        /// case). Convert with [`Id::to_uuid`] and `From<uuid::Uuid>`.
        ///
        /// The text is kept as written, but two IDs are equal, ordered and
        /// hashed by the UUID they denote: an ID in upper case equals the
        /// same ID in lower case.
        Id = r"^[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}$",
            matched by pattern::is_id,
            compared as meaning::Uuid,
            refused as "a UUID (8-4-4-4-12 hexadecimal digits)";
        /// A date and time in the schema's RFC 3339 shape, kept as written: the
        /// UTC offset may be missing and the second may be 60. Convert with
        /// [`Timestamp::to_offset_date_time`] and `TryFrom<time::OffsetDateTime>`.
        ///
        /// # Comparing timestamps
        ///
        /// The text is kept as written, but timestamps are equal, ordered
        /// and hashed by the instant they name: `2025-01-01T00:30:00+01:00`
        /// equals `2024-12-31T23:30:00Z` and sorts before
        /// `2025-01-01T00:00:00Z`; trailing zeros of a fraction do not
        /// count (`…:00.500Z` equals `…:00.5Z`), and `-00:00` is UTC.
        ///
        /// - Second 60 (a leap second) sorts after second 59 of the same
        ///   minute, fraction included, and before the next minute.
        /// - Without an offset, a timestamp is a wall-clock time in an
        ///   unknown zone. It is equal only to timestamps without an offset
        ///   that show the same wall-clock time. For ordering (which must be
        ///   total) it is read as if it were UTC, and sorts right after the
        ///   timestamps with an offset that name that UTC time.
        /// - A date the calendar does not have (month 00, 30 February),
        ///   which the schema's pattern lets through, is equal only to the
        ///   same text. It sorts where its numbers fall when days run on
        ///   past the end of a month (30 February 2025 just after 2 March
        ///   2025) and month 00 is the December before.
        Timestamp = r"^[0-9]{4}-(0[0-9]|1[012])-([0-2][0-9]|3[01])T([0-1][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|[-+]([0-1][0-9]|2[0-3]):[0-5][0-9])?$",
            matched by pattern::is_timestamp,
            compared as meaning::Instant,
            refused as "a timestamp (YYYY-MM-DDThh:mm:ss[.frac][Z|±hh:mm])";
        /// An IPv4 or IPv6 address in one of the textual forms the schema lists.
        IpAddress = r"^(((25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)|([0-9a-fA-F]{1,4}:){7,7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]{1,4}){1,6})|:((:[0-9a-fA-F]{1,4}){1,7}|:)|fe80:(:[0-9a-fA-F]{0,4}){0,4}%[0-9a-zA-Z]{1,}|::(ffff(:0{1,4}){0,1}:){0,1}((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])|([0-9a-fA-F]{1,4}:){1,4}:((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9]))$",
            matched by pattern::is_ip,
            compared as meaning::Text,
            refused as "an IPv4 or IPv6 address";
        /// Comma-separated latitude, longitude and optional altitude.
        GeoLocation = r"^[-+]?([0-9]+(\.[0-9]*)?)(, ?[-+]?([0-9]+(\.[0-9]*)?)){1,2}$",
            matched by pattern::is_geolocation,
            compared as meaning::Text,
            refused as "a location (two or three comma-separated decimal numbers)";
        /// A UN/LOCODE such as `FR PAR` or `FRPAR`.
        UnLocode = r"^[A-Z]{2} ?[A-Z]{3}$",
            matched by pattern::is_unlocode,
            compared as meaning::Text,
            refused as "a UN/LOCODE (two capitals, optional space, three capitals)";
        /// The name of an attachment: ASCII letters and digits only.
        AttachmentName = r"^[a-zA-Z0-9]+$",
            matched by pattern::is_attachment_name,
            compared as meaning::Text,
            refused as "an attachment name (ASCII letters and digits)";
        /// A media type with optional parameters, such as `text/plain; charset=utf-8`.
        // Escaped rather than raw: the pattern holds tab characters.
        MediaType = "^[-!#$%&'*+.^_`|~0-9a-zA-Z]+/[-!#$%&'*+.^_`|~0-9a-zA-Z]+([ \t]*;[ \t]*[-!#$%&'*+.^_`|~0-9a-zA-Z]+=([-!#$%&'*+.^_`|~0-9a-zA-Z]+|\"([\\x5D-~\t !#-\\x5B]|\\\\([\t 0-9a-zA-Z]))*\"))*$",
            matched by pattern::is_media_type,
            compared as meaning::Text,
            refused as "a media type (type/subtype with optional parameters)";
        /// A protocol or service name such as `tcp` or `http-alt`.
        Protocol = r"^[a-zA-Z0-9](-?[a-zA-Z0-9])*$",
            matched by pattern::is_protocol,
            compared as meaning::Text,
            refused as "a protocol name (letters and digits, single inner hyphens)";
        /// A digest written `algorithm:hexdigits`, such as `sha256:9f86…`.
        Hash = r"^[a-zA-Z0-9-]+:([a-fA-F0-9]{2})+$",
            matched by pattern::is_hash,
            compared as meaning::Text,
            refused as "a hash (algorithm:hex digits in pairs)";
    }
    formats {
        /// An e-mail address, checked exactly as the schema's `email` format.
        Email = "email", matched by is_email, refused as "an e-mail address";
        /// An absolute URI, checked exactly as the schema's `uri` format.
        Uri = "uri", matched by is_uri, refused as "an absolute URI";
    }
    values {
        Integer = r#"{"type": "integer"}"#;
        Confidence = r#"{"type": "number", "minimum": 0, "maximum": 1}"#;
        Content = r#"{"type": ["object", "string"]}"#;
    }
}

-- SPDX-License-Identifier: GPL-2.0
--
-- SHIM6 dissector (RFC 5533 control messages and payload extension header,
-- RFC 5534 Keepalive and Probe, the CGA Parameter Data Structure of RFC 3972
-- with RFC 5535's Multi-Prefix extension), laid out as the module's core
-- encodes it (src/proto/wire/).
--
-- Wireshark's built-in "shim6" dissector reads the fields of control
-- messages one octet early (Debian 12's 4.0.17 finds the checksum at octets
-- 3-4 instead of 4-5, and every field and option after it shifted), so it
-- calls correct packets malformed.  Loading this script takes IP protocol 140
-- over from it:
--
--     tshark -X lua_script:tools/wireshark/shim6.lua -r capture.pcap -V
--
-- or, for the Wireshark GUI, copy it into ~/.local/lib/wireshark/plugins/.
--
-- Display filter fields (protocol "shim6rfc"):
--
--   Common header
--     shim6rfc.next_header      Next Header
--     shim6rfc.hdr_ext_len      Hdr Ext Len
--     shim6rfc.length           header length in octets, (Hdr Ext Len + 1) * 8
--     shim6rfc.p                P bit: 1 payload extension header, 0 control
--     shim6rfc.type             message type (control)
--     shim6rfc.type_specific    the 7 type-specific bits (control)
--     shim6rfc.s                S bit, 0 for SHIM6 (control)
--     shim6rfc.checksum         checksum (control)
--     shim6rfc.checksum.status  1 good, 0 bad, 2 unverified (not all captured)
--   Context tags (47 bits) and nonces
--     shim6rfc.ct.initiator     Initiator Context Tag (I1, I2, I2bis)
--     shim6rfc.ct.responder     Responder Context Tag (R2)
--     shim6rfc.ct.receiver      Receiver Context Tag (Update Request and Ack,
--                               Keepalive, Probe, payload extension header)
--     shim6rfc.ct.packet        Packet Context Tag (R1bis, I2bis)
--     shim6rfc.nonce.initiator  Initiator Nonce
--     shim6rfc.nonce.responder  Responder Nonce
--     shim6rfc.nonce.request    Request Nonce (Update Request and Ack)
--     shim6rfc.reserved         reserved octets of the fixed part
--   Probe (RFC 5534 §5.2)
--     shim6rfc.precvd, shim6rfc.psent  report counts
--     shim6rfc.sta              REAP state: 0 Operational, 1 Exploring,
--                               2 InboundOk
--     shim6rfc.probe.reserved   the 22 bits after Sta
--     shim6rfc.sent.src, .dst, .nonce, .data   each report of a sent probe
--     shim6rfc.rcvd.src, .dst, .nonce, .data   each report of a received one
--   Error (RFC 5533 §5.14)
--     shim6rfc.error.code, shim6rfc.error.pointer, shim6rfc.error.packet
--   Options, each
--     shim6rfc.opt.type, shim6rfc.opt.critical, shim6rfc.opt.length,
--     shim6rfc.opt.padding, shim6rfc.opt.data (the contents of an option
--     unknown, or one the message type does not define)
--     shim6rfc.validator                     Responder Validator
--     shim6rfc.loclist.generation, .count, .method (one per locator),
--       .padding, .locator (one per locator) Locator List
--     shim6rfc.locpref.generation, .element_len, then per element .flags
--       (.flags.broken, .flags.transient), .priority, .weight, .rest
--                                            Locator Preferences
--     shim6rfc.pds.modifier, .subnet_prefix, .collision_count, .public_key,
--       then per extension .ext.type, .ext.length, and .mp.p, .mp.reserved,
--       .mp.prefix (Multi-Prefix) or .ext.data
--                                            CGA Parameter Data Structure
--     shim6rfc.cga_signature                 CGA Signature
--     shim6rfc.ulid.reserved, .sender, .receiver   ULID Pair
--     shim6rfc.fii                           Forked Instance Identifier
--     shim6rfc.keepalive.reserved, .timeout  Keepalive Timeout
--
-- Expert infos: shim6rfc.checksum.bad (checksum, error), shim6rfc.malformed
-- (malformed, error) for anything the core's parser refuses,
-- shim6rfc.type.unknown, shim6rfc.opt.unknown, shim6rfc.opt.unexpected,
-- shim6rfc.opt.refused (a C = 1 option the receiver does not know: the
-- message is refused), shim6rfc.nonzero (reserved bits or padding that a
-- sender leaves zero), shim6rfc.locpref.mismatch, shim6rfc.short (capture
-- shorter than the header).
--
-- The payload after a payload extension header goes to the dissector of its
-- Next Header (the "ip.proto" table).

local shim6 = Proto("shim6rfc", "SHIM6 (RFC 5533, project dissector)")

local MSG_NAMES = {
    [1] = "I1", [2] = "R1", [3] = "I2", [4] = "R2", [5] = "R1bis", [6] = "I2bis",
    [64] = "Update Request", [65] = "Update Acknowledgement", [66] = "Keepalive",
    [67] = "Probe", [68] = "Error",
}
local OPT_NAMES = {
    [1] = "Responder Validator", [2] = "Locator List", [3] = "Locator Preferences",
    [4] = "CGA Parameter Data Structure", [5] = "CGA Signature", [6] = "ULID Pair",
    [7] = "Forked Instance Identifier", [10] = "Keepalive Timeout",
}
local ERROR_NAMES = {
    [0] = "Unknown SHIM6 message type", [1] = "Critical option not recognized",
    [2] = "Locator verification method failed",
    [3] = "Locator List Generation number out of sync",
    [4] = "Wrong number of locators in a Locator Preferences option",
}
local METHOD_NAMES = { [1] = "HBA", [2] = "CGA" }
local STA_NAMES = { [0] = "Operational", [1] = "Exploring", [2] = "InboundOk" }
local CHECKSUM_STATUS = { [0] = "Bad", [1] = "Good", [2] = "Unverified" }
local EXT_NAMES = { [0x12] = "Multi-Prefix" }

local f = {
    next_header = ProtoField.uint8("shim6rfc.next_header", "Next Header"),
    hdr_ext_len = ProtoField.uint8("shim6rfc.hdr_ext_len", "Hdr Ext Len"),
    length = ProtoField.uint16("shim6rfc.length", "Header Length"),
    p = ProtoField.uint8("shim6rfc.p", "P", base.DEC, nil, 0x80),
    type = ProtoField.uint8("shim6rfc.type", "Message Type", base.DEC, MSG_NAMES, 0x7f),
    type_specific = ProtoField.uint8("shim6rfc.type_specific", "Type-specific", base.DEC, nil, 0xfe),
    s = ProtoField.uint8("shim6rfc.s", "S", base.DEC, nil, 0x01),
    checksum = ProtoField.uint16("shim6rfc.checksum", "Checksum", base.HEX),
    checksum_status = ProtoField.uint8("shim6rfc.checksum.status", "Checksum Status", base.DEC, CHECKSUM_STATUS),

    ct_initiator = ProtoField.uint64("shim6rfc.ct.initiator", "Initiator Context Tag", base.DEC_HEX),
    ct_responder = ProtoField.uint64("shim6rfc.ct.responder", "Responder Context Tag", base.DEC_HEX),
    ct_receiver = ProtoField.uint64("shim6rfc.ct.receiver", "Receiver Context Tag", base.DEC_HEX),
    ct_packet = ProtoField.uint64("shim6rfc.ct.packet", "Packet Context Tag", base.DEC_HEX),
    nonce_initiator = ProtoField.uint32("shim6rfc.nonce.initiator", "Initiator Nonce", base.DEC_HEX),
    nonce_responder = ProtoField.uint32("shim6rfc.nonce.responder", "Responder Nonce", base.DEC_HEX),
    nonce_request = ProtoField.uint32("shim6rfc.nonce.request", "Request Nonce", base.DEC_HEX),
    reserved = ProtoField.bytes("shim6rfc.reserved", "Reserved"),

    precvd = ProtoField.uint8("shim6rfc.precvd", "Precvd", base.DEC, nil, 0xf0),
    psent = ProtoField.uint8("shim6rfc.psent", "Psent", base.DEC, nil, 0x0f),
    sta = ProtoField.uint8("shim6rfc.sta", "Sta (REAP state)", base.DEC, STA_NAMES, 0xc0),
    probe_reserved = ProtoField.uint24("shim6rfc.probe.reserved", "Reserved", base.HEX, nil, 0x3fffff),
    sent_src = ProtoField.ipv6("shim6rfc.sent.src", "Source"),
    sent_dst = ProtoField.ipv6("shim6rfc.sent.dst", "Destination"),
    sent_nonce = ProtoField.uint32("shim6rfc.sent.nonce", "Nonce"),
    sent_data = ProtoField.uint32("shim6rfc.sent.data", "Data"),
    rcvd_src = ProtoField.ipv6("shim6rfc.rcvd.src", "Source"),
    rcvd_dst = ProtoField.ipv6("shim6rfc.rcvd.dst", "Destination"),
    rcvd_nonce = ProtoField.uint32("shim6rfc.rcvd.nonce", "Nonce"),
    rcvd_data = ProtoField.uint32("shim6rfc.rcvd.data", "Data"),

    error_code = ProtoField.uint8("shim6rfc.error.code", "Error Code", base.DEC, ERROR_NAMES, 0xfe),
    error_pointer = ProtoField.uint16("shim6rfc.error.pointer", "Pointer"),
    error_packet = ProtoField.bytes("shim6rfc.error.packet", "Packet in error"),

    opt_type = ProtoField.uint16("shim6rfc.opt.type", "Type", base.DEC, OPT_NAMES, 0xfffe),
    opt_critical = ProtoField.uint16("shim6rfc.opt.critical", "C", base.DEC, nil, 0x0001),
    opt_length = ProtoField.uint16("shim6rfc.opt.length", "Length"),
    opt_padding = ProtoField.bytes("shim6rfc.opt.padding", "Padding"),
    opt_data = ProtoField.bytes("shim6rfc.opt.data", "Contents"),

    validator = ProtoField.bytes("shim6rfc.validator", "Validator"),

    loclist_generation = ProtoField.uint32("shim6rfc.loclist.generation", "Locator List Generation"),
    loclist_count = ProtoField.uint8("shim6rfc.loclist.count", "Num Locators"),
    loclist_method = ProtoField.uint8("shim6rfc.loclist.method", "Verification Method", base.DEC, METHOD_NAMES),
    loclist_padding = ProtoField.bytes("shim6rfc.loclist.padding", "Padding"),
    loclist_locator = ProtoField.ipv6("shim6rfc.loclist.locator", "Locator"),

    locpref_generation = ProtoField.uint32("shim6rfc.locpref.generation", "Locator List Generation"),
    locpref_element_len = ProtoField.uint8("shim6rfc.locpref.element_len", "Element Len"),
    locpref_flags = ProtoField.uint8("shim6rfc.locpref.flags", "Flags", base.HEX),
    locpref_broken = ProtoField.uint8("shim6rfc.locpref.flags.broken", "BROKEN", base.DEC, nil, 0x01),
    locpref_transient = ProtoField.uint8("shim6rfc.locpref.flags.transient", "TRANSIENT", base.DEC, nil, 0x02),
    locpref_priority = ProtoField.uint8("shim6rfc.locpref.priority", "Priority"),
    locpref_weight = ProtoField.uint8("shim6rfc.locpref.weight", "Weight"),
    locpref_rest = ProtoField.bytes("shim6rfc.locpref.rest", "Rest of the element"),

    pds_modifier = ProtoField.bytes("shim6rfc.pds.modifier", "Modifier"),
    pds_subnet_prefix = ProtoField.bytes("shim6rfc.pds.subnet_prefix", "Subnet Prefix"),
    pds_collision_count = ProtoField.uint8("shim6rfc.pds.collision_count", "Collision Count"),
    pds_public_key = ProtoField.bytes("shim6rfc.pds.public_key", "Public Key"),
    pds_ext_type = ProtoField.uint16("shim6rfc.pds.ext.type", "Extension Type", base.HEX, EXT_NAMES),
    pds_ext_length = ProtoField.uint16("shim6rfc.pds.ext.length", "Extension Length"),
    pds_ext_data = ProtoField.bytes("shim6rfc.pds.ext.data", "Extension Data"),
    pds_mp_p = ProtoField.uint32("shim6rfc.pds.mp.p", "P", base.DEC, nil, 0x80000000),
    pds_mp_reserved = ProtoField.uint32("shim6rfc.pds.mp.reserved", "Reserved", base.HEX, nil, 0x7fffffff),
    pds_mp_prefix = ProtoField.bytes("shim6rfc.pds.mp.prefix", "Prefix"),

    cga_signature = ProtoField.bytes("shim6rfc.cga_signature", "CGA Signature"),

    ulid_reserved = ProtoField.bytes("shim6rfc.ulid.reserved", "Reserved"),
    ulid_sender = ProtoField.ipv6("shim6rfc.ulid.sender", "Sender ULID"),
    ulid_receiver = ProtoField.ipv6("shim6rfc.ulid.receiver", "Receiver ULID"),

    fii = ProtoField.uint32("shim6rfc.fii", "Forked Instance Identifier"),

    keepalive_reserved = ProtoField.uint16("shim6rfc.keepalive.reserved", "Reserved", base.HEX),
    keepalive_timeout = ProtoField.uint16("shim6rfc.keepalive.timeout", "Keepalive Timeout (s)"),
}

local ef = {
    bad_checksum = ProtoExpert.new("shim6rfc.checksum.bad", "Bad checksum",
        expert.group.CHECKSUM, expert.severity.ERROR),
    malformed = ProtoExpert.new("shim6rfc.malformed", "Malformed SHIM6 header",
        expert.group.MALFORMED, expert.severity.ERROR),
    unknown_type = ProtoExpert.new("shim6rfc.type.unknown", "Unknown message type",
        expert.group.UNDECODED, expert.severity.WARN),
    unknown_option = ProtoExpert.new("shim6rfc.opt.unknown", "Unknown option (C = 0): skipped",
        expert.group.UNDECODED, expert.severity.NOTE),
    unexpected_option = ProtoExpert.new("shim6rfc.opt.unexpected",
        "Option the message type does not define (C = 0): skipped",
        expert.group.PROTOCOL, expert.severity.NOTE),
    refused_option = ProtoExpert.new("shim6rfc.opt.refused",
        "Critical option the message type does not define: the message is refused",
        expert.group.PROTOCOL, expert.severity.WARN),
    nonzero = ProtoExpert.new("shim6rfc.nonzero", "Reserved bits or padding not zero",
        expert.group.PROTOCOL, expert.severity.WARN),
    pref_mismatch = ProtoExpert.new("shim6rfc.locpref.mismatch",
        "Preferences do not match the Locator List of that generation",
        expert.group.PROTOCOL, expert.severity.WARN),
    short = ProtoExpert.new("shim6rfc.short", "Header not captured whole",
        expert.group.UNDECODED, expert.severity.NOTE),
}

local field_list = {}
for _, v in pairs(f) do field_list[#field_list + 1] = v end
shim6.fields = field_list
local expert_list = {}
for _, v in pairs(ef) do expert_list[#expert_list + 1] = v end
shim6.experts = expert_list

-- Which options each message type defines (options.rs allowed()).
local ALLOWED = {
    [1] = { [6] = true, [7] = true },
    [2] = { [1] = true },
    [3] = { [1] = true, [2] = true, [3] = true, [4] = true, [5] = true, [6] = true, [7] = true, [10] = true },
    [4] = { [2] = true, [3] = true, [4] = true, [5] = true, [10] = true },
    [5] = { [1] = true },
    [64] = { [2] = true, [3] = true, [4] = true, [5] = true, [10] = true },
}
ALLOWED[6] = ALLOWED[3]

local function malformed(item, text)
    item:add_proto_expert_info(ef.malformed, text)
end

local function all_zero(range)
    for i = 0, range:len() - 1 do
        if range(i, 1):uint() ~= 0 then return false end
    end
    return true
end

-- Reserved octets and padding: zero as sent; the core ignores them.
local function add_zero(tree, field, range)
    local item = tree:add(field, range)
    if not all_zero(range) then item:add_proto_expert_info(ef.nonzero) end
end

-- A 47-bit context tag: the low bits of the 6 octets at `at`.
local function add_tag(tree, field, tvb, at)
    local range = tvb(at, 6)
    return tree:add(field, range, range:bitfield(1, 47))
end

-- "R | Context Tag" of control messages: a reserved bit, then the tag.
local function add_r_tag(tree, field, tvb, at)
    local item = add_tag(tree, field, tvb, at)
    if tvb(at, 1):bitfield(0, 1) ~= 0 then item:add_proto_expert_info(ef.nonzero, "Reserved bit set") end
end

-- The internet checksum of RFC 1071 over the header: sums to 0xffff when good.
local function ones_sum(range)
    local sum = 0
    for i = 0, range:len() - 2, 2 do
        sum = sum + range(i, 2):uint()
    end
    if range:len() % 2 == 1 then sum = sum + range(range:len() - 1, 1):uint() * 256 end
    while sum > 0xffff do sum = sum % 0x10000 + math.floor(sum / 0x10000) end
    return sum
end

local function next_protocol(tvb, pinfo, tree, next_header)
    local ip_proto = DissectorTable.get("ip.proto")
    if ip_proto:get_dissector(next_header) then
        -- try() has already shown a malformed upper layer as that layer's;
        -- the Lua error it raises on top would blame this script.
        pcall(ip_proto.try, ip_proto, next_header, tvb, pinfo, tree)
    else
        Dissector.get("data"):call(tvb, pinfo, tree)
    end
end

---------------------------------------------------------------- options

local function dissect_locator_list(item, c, seen)
    local n = c:len() >= 5 and c(4, 1):uint() or 0
    local pad = 7 - n % 8
    if c:len() ~= 5 + n + pad + 16 * n then
        malformed(item, "Locator List length does not fit its locator count")
        return
    end
    local generation = c(0, 4):uint()
    item:add(f.loclist_generation, c(0, 4))
    item:add(f.loclist_count, c(4, 1))
    for i = 0, n - 1 do
        item:add(f.loclist_method, c(5 + i, 1))
    end
    if pad > 0 then add_zero(item, f.loclist_padding, c(5 + n, pad)) end
    for i = 0, n - 1 do
        item:add(f.loclist_locator, c(5 + n + pad + 16 * i, 16))
    end
    seen.loclist = { generation = generation, count = n }
end

local function dissect_locator_preferences(item, c, seen)
    local el = c:len() >= 5 and c(4, 1):uint() or 0
    if el == 0 or (c:len() - 5) % el ~= 0 then
        malformed(item, "Element Len 0 or not a whole number of elements")
        return
    end
    item:add(f.locpref_generation, c(0, 4))
    item:add(f.locpref_element_len, c(4, 1))
    local n = (c:len() - 5) / el
    for i = 0, n - 1 do
        local e = c(5 + i * el, el)
        local sub = item:add(shim6, e, string.format("Element %d", i + 1))
        local flags = sub:add(f.locpref_flags, e(0, 1))
        flags:add(f.locpref_broken, e(0, 1))
        flags:add(f.locpref_transient, e(0, 1))
        if el >= 2 then sub:add(f.locpref_priority, e(1, 1)) end
        if el >= 3 then sub:add(f.locpref_weight, e(2, 1)) end
        if el > 3 then sub:add(f.locpref_rest, e(3, el - 3)) end
    end
    seen.locpref = { generation = c(0, 4):uint(), count = n, item = item }
end

-- The DER length of the SEQUENCE at the start of `r` (the public key), or
-- nil: the forms hba.rs accepts, minimal, at most two length octets.
local function der_sequence_len(r)
    if r:len() < 2 or r(0, 1):uint() ~= 0x30 then return nil end
    local l0 = r(1, 1):uint()
    local header, len
    if l0 < 0x80 then
        header, len = 2, l0
    elseif l0 == 0x81 and r:len() >= 3 and r(2, 1):uint() >= 0x80 then
        header, len = 3, r(2, 1):uint()
    elseif l0 == 0x82 and r:len() >= 4 and r(2, 2):uint() >= 0x100 then
        header, len = 4, r(2, 2):uint()
    else
        return nil
    end
    if header + len > r:len() then return nil end
    return header + len
end

-- RFC 3972 §3: Modifier, Subnet Prefix, Collision Count, Public Key,
-- extensions (RFC 4581); RFC 5535 §5's Multi-Prefix one decoded.
local function dissect_pds(item, c)
    if c:len() < 25 then
        malformed(item, "CGA Parameter Data Structure shorter than its fixed part")
        return
    end
    item:add(f.pds_modifier, c(0, 16))
    item:add(f.pds_subnet_prefix, c(16, 8))
    item:add(f.pds_collision_count, c(24, 1))
    local key_len = c:len() > 25 and der_sequence_len(c(25)) or nil
    if not key_len then
        malformed(item, "Public Key is not a DER SEQUENCE")
        return
    end
    item:add(f.pds_public_key, c(25, key_len))
    local at = 25 + key_len
    local multi_prefix = false
    while at < c:len() do
        if c:len() - at < 4 or c:len() - at - 4 < c(at + 2, 2):uint() then
            malformed(item, "Extension runs past the CGA Parameter Data Structure")
            return
        end
        local ty, len = c(at, 2):uint(), c(at + 2, 2):uint()
        local ext = item:add(shim6, c(at, 4 + len), "Extension: " .. (EXT_NAMES[ty] or "unknown"))
        ext:add(f.pds_ext_type, c(at, 2))
        ext:add(f.pds_ext_length, c(at + 2, 2))
        if ty == 0x12 then
            if len < 12 or (len - 4) % 8 ~= 0 then
                malformed(ext, "Multi-Prefix length is not 4 + 8 n, n >= 1")
                return
            elseif multi_prefix then
                malformed(ext, "Second Multi-Prefix extension")
                return
            end
            multi_prefix = true
            ext:add(f.pds_mp_p, c(at + 4, 4))
            ext:add(f.pds_mp_reserved, c(at + 4, 4))
            for i = 0, (len - 4) / 8 - 1 do
                ext:add(f.pds_mp_prefix, c(at + 8 + 8 * i, 8))
            end
        elseif len > 0 then
            ext:add(f.pds_ext_data, c(at + 4, len))
        end
        at = at + 4 + len
    end
end

local function fixed_len(c, item, want)
    if c:len() ~= want then
        malformed(item, string.format("Length %d, this option has %d", c:len(), want))
        return false
    end
    return true
end

local OPTION = {
    [1] = function(item, c) item:add(f.validator, c) end,
    [2] = dissect_locator_list,
    [3] = dissect_locator_preferences,
    [4] = dissect_pds,
    [5] = function(item, c) item:add(f.cga_signature, c) end,
    [6] = function(item, c)
        if not fixed_len(c, item, 36) then return end
        add_zero(item, f.ulid_reserved, c(0, 4))
        item:add(f.ulid_sender, c(4, 16))
        item:add(f.ulid_receiver, c(20, 16))
    end,
    [7] = function(item, c)
        if fixed_len(c, item, 4) then item:add(f.fii, c) end
    end,
    [10] = function(item, c)
        if not fixed_len(c, item, 4) then return end
        add_zero(item, f.keepalive_reserved, c(0, 2))
        item:add(f.keepalive_timeout, c(2, 2))
    end,
}

-- The options of a message of type `t`: `area` is the rest of the header.
local function dissect_options(tree, area, t)
    local at, seen, present = 0, {}, {}
    while at < area:len() do
        if area:len() - at < 4 then
            malformed(tree, "Option header runs past the message")
            return
        end
        local word, length = area(at, 2):uint(), area(at + 2, 2):uint()
        local ot, critical = math.floor(word / 2), word % 2
        local total = math.floor((4 + length + 7) / 8) * 8
        local name = OPT_NAMES[ot] or string.format("Unknown option %d", ot)
        local fits = total <= area:len() - at
        local item = tree:add(shim6, fits and area(at, total) or area(at), "Option: " .. name)
        item:add(f.opt_type, area(at, 2))
        item:add(f.opt_critical, area(at, 2))
        item:add(f.opt_length, area(at + 2, 2))
        if not fits then
            malformed(item, string.format("Option of %d octets runs past the message (%d left)",
                total, area:len() - at))
            return
        end
        local c = area(at + 4, length)
        if ALLOWED[t] and ALLOWED[t][ot] then
            if present[ot] then malformed(item, "Option present twice") end
            present[ot] = true
            OPTION[ot](item, c, seen)
        else
            if length > 0 then item:add(f.opt_data, c) end
            if critical == 1 then
                item:add_proto_expert_info(ef.refused_option)
            elseif OPTION[ot] then
                item:add_proto_expert_info(ef.unexpected_option)
            else
                item:add_proto_expert_info(ef.unknown_option)
            end
        end
        if total > 4 + length then
            add_zero(item, f.opt_padding, area(at + 4 + length, total - 4 - length))
        end
        at = at + total
    end
    -- Element i of the preferences belongs to locator i of the list with the
    -- same generation (RFC 5533 §5.15.3); the peer answers a mismatch with
    -- Error code 4.
    local list, pref = seen.loclist, seen.locpref
    if list and pref and list.generation == pref.generation and list.count ~= pref.count then
        pref.item:add_proto_expert_info(ef.pref_mismatch,
            string.format("%d preferences for %d locators", pref.count, list.count))
    end
end

---------------------------------------------------------------- messages

local function add_reports(tree, h, at, n, label, fields)
    for i = 0, n - 1 do
        local r = h(at + 40 * i, 40)
        local sub = tree:add(shim6, r, string.format("%s %d", label, i + 1))
        sub:add(fields[1], r(0, 16))
        sub:add(fields[2], r(16, 16))
        sub:add(fields[3], r(32, 4))
        sub:add(fields[4], r(36, 4))
    end
end

-- The messages with a context tag at 6, a nonce at 12 and options at 16.
local function tag_nonce(tag_field, nonce_field)
    return {
        min = 16,
        fields = function(tree, h)
            add_r_tag(tree, tag_field, h, 6)
            tree:add(nonce_field, h(12, 4))
            return 16
        end,
    }
end

-- Each message type: its minimum length (control.rs min_len()), and the
-- fields of its fixed part, which return where its options start (nil:
-- it has none).
local MESSAGE = {
    [1] = tag_nonce(f.ct_initiator, f.nonce_initiator),
    [2] = {
        min = 16,
        fields = function(tree, h)
            add_zero(tree, f.reserved, h(6, 2))
            tree:add(f.nonce_initiator, h(8, 4))
            tree:add(f.nonce_responder, h(12, 4))
            return 16
        end,
    },
    [3] = {
        min = 24,
        fields = function(tree, h)
            add_r_tag(tree, f.ct_initiator, h, 6)
            tree:add(f.nonce_initiator, h(12, 4))
            tree:add(f.nonce_responder, h(16, 4))
            add_zero(tree, f.reserved, h(20, 4))
            return 24
        end,
    },
    [4] = tag_nonce(f.ct_responder, f.nonce_initiator),
    [5] = tag_nonce(f.ct_packet, f.nonce_responder),
    [6] = {
        min = 32,
        fields = function(tree, h)
            add_r_tag(tree, f.ct_initiator, h, 6)
            tree:add(f.nonce_initiator, h(12, 4))
            tree:add(f.nonce_responder, h(16, 4))
            -- 49 reserved bits: octets 20-25 here, the last one is the
            -- reserved bit add_r_tag() checks.
            add_zero(tree, f.reserved, h(20, 6))
            add_r_tag(tree, f.ct_packet, h, 26)
            return 32
        end,
    },
    [64] = tag_nonce(f.ct_receiver, f.nonce_request),
    [65] = tag_nonce(f.ct_receiver, f.nonce_request),
    [66] = {
        min = 16,
        fields = function(tree, h)
            add_r_tag(tree, f.ct_receiver, h, 6)
            add_zero(tree, f.reserved, h(12, 4))
            return 16
        end,
    },
    [67] = {
        min = 56,
        fields = function(tree, h)
            add_r_tag(tree, f.ct_receiver, h, 6)
            tree:add(f.precvd, h(12, 1))
            tree:add(f.psent, h(12, 1))
            tree:add(f.sta, h(13, 1))
            local reserved = tree:add(f.probe_reserved, h(13, 3))
            if h(13, 3):bitfield(2, 22) ~= 0 then reserved:add_proto_expert_info(ef.nonzero) end
            local precvd, psent = h(12, 1):bitfield(0, 4), h(12, 1):bitfield(4, 4)
            if psent == 0 then
                malformed(tree, "Psent 0: a Probe reports at least itself")
                return nil
            elseif h(13, 1):bitfield(0, 2) == 3 then
                malformed(tree, "Sta 3 is no REAP state")
                return nil
            elseif 16 + 40 * (psent + precvd) > h:len() then
                malformed(tree, string.format("%d reports do not fit in %d octets",
                    psent + precvd, h:len()))
                return nil
            end
            add_reports(tree, h, 16, psent, "Sent probe",
                { f.sent_src, f.sent_dst, f.sent_nonce, f.sent_data })
            add_reports(tree, h, 16 + 40 * psent, precvd, "Received probe",
                { f.rcvd_src, f.rcvd_dst, f.rcvd_nonce, f.rcvd_data })
            return 16 + 40 * (psent + precvd)
        end,
    },
    [68] = {
        min = 16,
        fields = function(tree, h)
            tree:add(f.error_pointer, h(6, 2))
            tree:add(f.error_packet, h(8))
            return nil
        end,
    },
}

local function dissect_control(tvb, pinfo, item, len)
    local t = tvb(2, 1):bitfield(1, 7)
    local name = MSG_NAMES[t] or string.format("Unknown type %d", t)
    pinfo.cols.info:set("SHIM6 " .. name)
    item:append_text(", " .. name)
    item:add(f.type, tvb(2, 1))
    if t == 68 then
        item:add(f.error_code, tvb(3, 1))
    else
        item:add(f.type_specific, tvb(3, 1))
    end
    local s = item:add(f.s, tvb(3, 1))
    if tvb(3, 1):bitfield(7, 1) == 1 then malformed(s, "S bit set: not a SHIM6 message") end
    item:add(f.checksum, tvb(4, 2))
    if tvb:len() < len then
        item:add(f.checksum_status, tvb(4, 2), 2):set_generated()
        item:add_proto_expert_info(ef.short, string.format("%d of %d octets captured", tvb:len(), len))
        return
    end
    local h = tvb(0, len):tvb()
    local good = ones_sum(h()) == 0xffff
    local status = item:add(f.checksum_status, tvb(4, 2), good and 1 or 0)
    status:set_generated()
    if not good then
        status:add_proto_expert_info(ef.bad_checksum)
        pinfo.cols.info:append(" [bad checksum]")
    end
    local spec = MESSAGE[t]
    if not spec then
        item:add_proto_expert_info(ef.unknown_type)
        return
    end
    if len < spec.min then
        malformed(item, string.format("%s of %d octets, shorter than its minimum %d", name, len, spec.min))
        return
    end
    local options_at = spec.fields(item, h)
    if options_at and options_at < len then
        dissect_options(item, h(options_at), t)
    end
end

local function dissect_payload(tvb, pinfo, item)
    pinfo.cols.info:set("SHIM6 Payload")
    item:append_text(", Payload")
    if tvb(1, 1):uint() ~= 0 then
        malformed(item, string.format("Hdr Ext Len %d: a payload extension header has 0", tvb(1, 1):uint()))
        return false
    end
    add_tag(item, f.ct_receiver, tvb, 2)
    return true
end

function shim6.dissector(tvb, pinfo, tree)
    pinfo.cols.protocol = "SHIM6"
    local item = tree:add(shim6, tvb())
    if tvb:len() < 8 then
        if tvb:reported_len() < 8 then
            malformed(item, string.format("%d octets, shorter than any SHIM6 header", tvb:reported_len()))
        else
            item:add_proto_expert_info(ef.short)
        end
        return tvb:len()
    end
    local payload = tvb(2, 1):bitfield(0, 1) == 1
    -- The payload extension header is 8 octets whatever its Hdr Ext Len
    -- says (payload.rs); a control message is as long as its own says.
    local len = payload and 8 or (tvb(1, 1):uint() + 1) * 8
    item:set_len(math.min(len, tvb:len()))
    item:add(f.next_header, tvb(0, 1))
    item:add(f.hdr_ext_len, tvb(1, 1))
    item:add(f.length, tvb(1, 1), len):set_generated()
    item:add(f.p, tvb(2, 1))
    if len > tvb:reported_len() then
        malformed(item, string.format("Header of %d octets in %d", len, tvb:reported_len()))
        return tvb:len()
    end
    local whole = true
    if payload then
        whole = dissect_payload(tvb, pinfo, item)
    else
        dissect_control(tvb, pinfo, item, len)
    end
    if whole and tvb:len() > len then
        next_protocol(tvb(len):tvb(), pinfo, tree, tvb(0, 1):uint())
    end
    return tvb:len()
end

DissectorTable.get("ip.proto"):add(140, shim6)

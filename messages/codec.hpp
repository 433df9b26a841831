// Conversions between the plain lock classes (core/) and their Protobuf
// form (messages/godistlock.proto).
#pragma once

#include "core/acceptor.hpp"
#include "messages/godistlock.pb.h"

#include <optional>
#include <string>
#include <string_view>

namespace godistlock::messages {

void to_proto(const core::Ballot& in, wire::Ballot& out);
core::Ballot from_proto(const wire::Ballot& in);
void to_proto(const core::LockState& in, wire::LockState& out);
core::LockState from_proto(const wire::LockState& in);

void to_proto(const core::PromiseSet& in,
              google::protobuf::RepeatedPtrField<wire::PromiseVoter>& out);
core::PromiseSet from_proto(const google::protobuf::RepeatedPtrField<wire::PromiseVoter>& in);

std::string encode_record(const core::AcceptorRecord& record);
// nullopt when the bytes are not a valid record.
std::optional<core::AcceptorRecord> decode_record(std::string_view bytes);

// The compact form a lock rests in while it has no actor: ballots that
// repeat `accepted` (the usual case) are left out. Lossless.
std::string encode_resting(const core::AcceptorRecord& record);
std::optional<core::AcceptorRecord> decode_resting(std::string_view bytes);

} // namespace godistlock::messages

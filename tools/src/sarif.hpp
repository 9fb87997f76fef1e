// `bpfvm verify --format sarif`: the verdicts as a SARIF 2.1.0 log that GitHub code scanning
// accepts. Every verifier rule is a reportingDescriptor; each rejection is a result located at
// its C source line (from BTF line info) or else at the object file, with the branch decisions
// that led there as a code flow. Files that could not be loaded are tool execution
// notifications.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "verify_report.hpp"

namespace bpfvm::tools {

nlohmann::ordered_json sarif_log(const std::vector<FileReport>& files);

// A file path as a URI reference: relative paths stay relative (forward slashes, percent-encoded),
// absolute ones become file:// URIs.
std::string path_to_uri(const std::string& path);

}  // namespace bpfvm::tools

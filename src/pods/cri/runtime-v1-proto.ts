// The part of CRI's runtime.v1 API (k8s.io/cri-api/pkg/apis/runtime/v1/api.proto) that inotop
// speaks. Field numbers and names are the upstream ones: protobuf matches fields by number, and
// gRPC routes by the /runtime.v1.RuntimeService/<Method> path, so both must match exactly;
// fields left out are skipped on decoding.
//
// The text lives in a module rather than a .proto file so that it ships inside dist/ with the
// compiled code (tsc does not copy .proto files).

export const RUNTIME_V1_PROTO = `
syntax = "proto3";

package runtime.v1;

service RuntimeService {
    // ---- what inotop reads ----
    rpc Version(VersionRequest) returns (VersionResponse) {}
    rpc ListPodSandbox(ListPodSandboxRequest) returns (ListPodSandboxResponse) {}
    rpc ListContainers(ListContainersRequest) returns (ListContainersResponse) {}

    // ---- used only by the test harness (test/helpers/containerd.ts) to act like kubelet ----
    rpc RunPodSandbox(RunPodSandboxRequest) returns (RunPodSandboxResponse) {}
    rpc StopPodSandbox(StopPodSandboxRequest) returns (StopPodSandboxResponse) {}
    rpc RemovePodSandbox(RemovePodSandboxRequest) returns (RemovePodSandboxResponse) {}
    rpc CreateContainer(CreateContainerRequest) returns (CreateContainerResponse) {}
    rpc StartContainer(StartContainerRequest) returns (StartContainerResponse) {}
    rpc StopContainer(StopContainerRequest) returns (StopContainerResponse) {}
    rpc RemoveContainer(RemoveContainerRequest) returns (RemoveContainerResponse) {}
    rpc ContainerStatus(ContainerStatusRequest) returns (ContainerStatusResponse) {}
}

// ---- messages inotop reads ----

message VersionRequest {
    string version = 1;
}

message VersionResponse {
    string version = 1;
    string runtime_name = 2;
    string runtime_version = 3;
    string runtime_api_version = 4;
}

message PodSandboxMetadata {
    string name = 1;
    string uid = 2;
    string namespace = 3;
    uint32 attempt = 4;
}

enum PodSandboxState {
    SANDBOX_READY = 0;
    SANDBOX_NOTREADY = 1;
}

message PodSandboxStateValue {
    PodSandboxState state = 1;
}

message PodSandboxFilter {
    string id = 1;
    PodSandboxStateValue state = 2;
    map<string, string> label_selector = 3;
}

message ListPodSandboxRequest {
    PodSandboxFilter filter = 1;
}

message PodSandbox {
    string id = 1;
    PodSandboxMetadata metadata = 2;
    PodSandboxState state = 3;
    int64 created_at = 4;
    map<string, string> labels = 5;
    map<string, string> annotations = 6;
    string runtime_handler = 7;
}

message ListPodSandboxResponse {
    repeated PodSandbox items = 1;
}

message ContainerMetadata {
    string name = 1;
    uint32 attempt = 2;
}

message ImageSpec {
    string image = 1;
    map<string, string> annotations = 2;
}

enum ContainerState {
    CONTAINER_CREATED = 0;
    CONTAINER_RUNNING = 1;
    CONTAINER_EXITED = 2;
    CONTAINER_UNKNOWN = 3;
}

message ContainerStateValue {
    ContainerState state = 1;
}

message ContainerFilter {
    string id = 1;
    ContainerStateValue state = 2;
    string pod_sandbox_id = 3;
    map<string, string> label_selector = 4;
}

message ListContainersRequest {
    ContainerFilter filter = 1;
}

message Container {
    string id = 1;
    string pod_sandbox_id = 2;
    ContainerMetadata metadata = 3;
    ImageSpec image = 4;
    string image_ref = 5;
    ContainerState state = 6;
    int64 created_at = 7;
    map<string, string> labels = 8;
    map<string, string> annotations = 9;
}

message ListContainersResponse {
    repeated Container containers = 1;
}

// ---- messages only the test harness sends ----

enum NamespaceMode {
    POD = 0;
    CONTAINER = 1;
    NODE = 2;
    TARGET = 3;
}

message NamespaceOption {
    NamespaceMode network = 1;
    NamespaceMode pid = 2;
    NamespaceMode ipc = 3;
    string target_id = 4;
}

message LinuxSandboxSecurityContext {
    NamespaceOption namespace_options = 1;
}

message LinuxPodSandboxConfig {
    string cgroup_parent = 1;
    LinuxSandboxSecurityContext security_context = 2;
    map<string, string> sysctls = 3;
}

message PodSandboxConfig {
    PodSandboxMetadata metadata = 1;
    string hostname = 2;
    string log_directory = 3;
    map<string, string> labels = 6;
    map<string, string> annotations = 7;
    LinuxPodSandboxConfig linux = 8;
}

message RunPodSandboxRequest {
    PodSandboxConfig config = 1;
    string runtime_handler = 2;
}

message RunPodSandboxResponse {
    string pod_sandbox_id = 1;
}

message StopPodSandboxRequest {
    string pod_sandbox_id = 1;
}

message StopPodSandboxResponse {}

message RemovePodSandboxRequest {
    string pod_sandbox_id = 1;
}

message RemovePodSandboxResponse {}

enum MountPropagation {
    PROPAGATION_PRIVATE = 0;
    PROPAGATION_HOST_TO_CONTAINER = 1;
    PROPAGATION_BIDIRECTIONAL = 2;
}

message Mount {
    string container_path = 1;
    string host_path = 2;
    bool readonly = 3;
    bool selinux_relabel = 4;
    MountPropagation propagation = 5;
}

message KeyValue {
    string key = 1;
    string value = 2;
}

message LinuxContainerSecurityContext {
    NamespaceOption namespace_options = 3;
}

message LinuxContainerConfig {
    LinuxContainerSecurityContext security_context = 2;
}

message ContainerConfig {
    ContainerMetadata metadata = 1;
    ImageSpec image = 2;
    repeated string command = 3;
    repeated string args = 4;
    string working_dir = 5;
    repeated KeyValue envs = 6;
    repeated Mount mounts = 7;
    map<string, string> labels = 9;
    map<string, string> annotations = 10;
    string log_path = 11;
    LinuxContainerConfig linux = 15;
}

message CreateContainerRequest {
    string pod_sandbox_id = 1;
    ContainerConfig config = 2;
    PodSandboxConfig sandbox_config = 3;
}

message CreateContainerResponse {
    string container_id = 1;
}

message StartContainerRequest {
    string container_id = 1;
}

message StartContainerResponse {}

message StopContainerRequest {
    string container_id = 1;
    int64 timeout = 2;
}

message StopContainerResponse {}

message RemoveContainerRequest {
    string container_id = 1;
}

message RemoveContainerResponse {}

message ContainerStatusRequest {
    string container_id = 1;
    bool verbose = 2;
}

message ContainerStatus {
    string id = 1;
    ContainerMetadata metadata = 2;
    ContainerState state = 3;
}

message ContainerStatusResponse {
    ContainerStatus status = 1;
    // With verbose: runtime-specific JSON; containerd's "info" holds the task's pid.
    map<string, string> info = 2;
}
`;

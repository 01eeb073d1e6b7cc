package io.openshell.vm.hypervisor;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One sandbox VM as every backend needs it: size, the host trees the guest sees, the console log and
 * the command the guest init finally runs (the supervisor) with its environment.
 */
public record VmPlan(String sandboxId, int vcpus, int memMib, Path rootfsDir, Path workspaceDir, Path supervisorDir,
    Path consoleLog, List<String> guestCommand, Map<String, String> guestEnvironment, String supervisorCredential) {

  /** Never prints the supervisor credential. */
  @Override
  public String toString() {
    return "VmPlan[sandboxId=" + sandboxId + ", vcpus=" + vcpus + ", memMib=" + memMib + ", rootfsDir=" + rootfsDir
        + ", workspaceDir=" + workspaceDir + ", guestCommand=" + guestCommand + "]";
  }
}

package io.openshell.vm.hypervisor;

import java.util.List;

/**
 * A hypervisor backend: turns a VM plan into the launcher command line the driver spawns (from its
 * one long-lived spawner thread, under a parent-death signal). The launcher runs the VM in the
 * foreground, writes the guest console to its stdout, exits when the guest does, and exits on SIGTERM.
 */
public interface Hypervisor {
  String name();

  List<String> launcherCommand(VmPlan plan);
}

package io.openshell.client.sandbox;

import io.openshell.protocol.v1.Sandbox;
import io.openshell.protocol.v1.SandboxCondition;
import io.openshell.protocol.v1.SandboxPhase;
import java.util.Locale;

/** The progress lines {@code sandbox create} prints while it watches: {@code [0.4s] Provisioning…}. */
public final class Progress {
  private Progress() {}

  static String line(long elapsedMillis, Sandbox sandbox) {
    String elapsed = String.format(Locale.ROOT, "[%.1fs] ", elapsedMillis / 1000.0);
    return elapsed + switch (sandbox.getPhase()) {
      case SANDBOX_PHASE_READY -> "Ready";
      case SANDBOX_PHASE_ERROR -> "Error" + detail(sandbox);
      case SANDBOX_PHASE_DELETING -> "Deleting…";
      case SANDBOX_PHASE_PROVISIONING -> "Provisioning…" + detail(sandbox);
      default -> "Waiting for the sandbox…" + detail(sandbox);
    };
  }

  public static String phaseName(SandboxPhase phase) {
    String name = phase.name().replace("SANDBOX_PHASE_", "");
    return name.equals("UNRECOGNIZED") ? "UNKNOWN" : name;
  }

  /** The Ready condition's reason and message, when it says more than "starting". */
  static String detail(Sandbox sandbox) {
    for (SandboxCondition condition : sandbox.getStatus().getConditionsList()) {
      if (!condition.getType().equals("Ready") || condition.getStatus().equals("True")) continue;
      if (condition.getReason().equalsIgnoreCase("Starting") && sandbox.getPhase() != SandboxPhase.SANDBOX_PHASE_ERROR) return "";
      return " (" + condition.getReason() + (condition.getMessage().isEmpty() ? "" : ": " + condition.getMessage()) + ")";
    }
    return "";
  }
}

package io.openshell.gateway.sandbox;

/** Sandbox lifecycle phase; the same values as the wire enum {@code SandboxPhase}. */
public enum Phase {
  PROVISIONING, READY, ERROR, DELETING, UNKNOWN;

  public boolean isTerminal() {
    return this == READY || this == ERROR;
  }
}

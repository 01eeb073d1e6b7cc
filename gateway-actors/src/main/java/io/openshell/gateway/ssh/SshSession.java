package io.openshell.gateway.ssh;

import io.openshell.gateway.CborSerializable;

/**
 * One SSH session as stored: the token that lets a client open tunnels to one sandbox until it
 * expires ({@code expiresAtMs == 0}: never) or is revoked. The token is a secret: {@link #toString}
 * redacts it so a logged session or event never leaks it.
 */
public record SshSession(String id, String token, String sandboxId, String name, long createdAtMs, long expiresAtMs,
    boolean revoked) implements CborSerializable {

  public boolean expired(long nowMs) {
    return expiresAtMs > 0 && nowMs >= expiresAtMs;
  }

  /** The rules a tunnel request is held to (UPSTREAM §B 36). */
  public TokenVerdict verdict(String requestedSandboxId, long nowMs) {
    if (revoked) return TokenVerdict.REVOKED;
    if (expired(nowMs)) return TokenVerdict.EXPIRED;
    if (!sandboxId.equals(requestedSandboxId)) return TokenVerdict.OTHER_SANDBOX;
    return TokenVerdict.VALID;
  }

  /** Revoked and expired sessions serve no one and are dropped by the hourly reaper. */
  public boolean reapable(long nowMs) {
    return revoked || expired(nowMs);
  }

  public SshSession asRevoked() {
    return new SshSession(id, token, sandboxId, name, createdAtMs, expiresAtMs, true);
  }

  @Override
  public String toString() {
    return "SshSession[id=" + id + ", token=" + TokenRedaction.redact(token) + ", sandboxId=" + sandboxId
        + ", name=" + name + ", createdAtMs=" + createdAtMs + ", expiresAtMs=" + expiresAtMs + ", revoked=" + revoked + "]";
  }
}

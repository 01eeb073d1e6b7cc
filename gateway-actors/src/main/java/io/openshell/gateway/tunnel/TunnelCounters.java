package io.openshell.gateway.tunnel;

import java.util.HashMap;
import java.util.Map;

/**
 * Open tunnel connections per token and per sandbox, and the leases that hold them. Owned by one
 * actor ({@link TunnelLeases}); never shared. A lease is counted once and released once: releasing
 * an unknown or already released lease changes nothing, so every exit path of a connection may
 * release without double-counting.
 */
final class TunnelCounters {
  enum Outcome { GRANTED, TOKEN_LIMIT, SANDBOX_LIMIT }

  private record Lease(String token, String sandboxId) {}

  private final int maxPerToken;
  private final int maxPerSandbox;
  private final Map<String, Lease> leases = new HashMap<>();
  private final Map<String, Integer> perToken = new HashMap<>();
  private final Map<String, Integer> perSandbox = new HashMap<>();

  TunnelCounters(int maxPerToken, int maxPerSandbox) {
    this.maxPerToken = maxPerToken;
    this.maxPerSandbox = maxPerSandbox;
  }

  /** Per token first, then per sandbox; a per-sandbox refusal takes the token's count back. */
  Outcome acquire(String leaseId, String token, String sandboxId) {
    if (leases.containsKey(leaseId)) return Outcome.GRANTED;
    if (tokenCount(token) >= maxPerToken) return Outcome.TOKEN_LIMIT;
    perToken.merge(token, 1, Integer::sum);
    if (sandboxCount(sandboxId) >= maxPerSandbox) {
      decrement(perToken, token);
      return Outcome.SANDBOX_LIMIT;
    }
    perSandbox.merge(sandboxId, 1, Integer::sum);
    leases.put(leaseId, new Lease(token, sandboxId));
    return Outcome.GRANTED;
  }

  /** True if this call released the lease; false if it was unknown or already released. */
  boolean release(String leaseId) {
    Lease lease = leases.remove(leaseId);
    if (lease == null) return false;
    decrement(perToken, lease.token());
    decrement(perSandbox, lease.sandboxId());
    return true;
  }

  int tokenCount(String token) {
    return perToken.getOrDefault(token, 0);
  }

  int sandboxCount(String sandboxId) {
    return perSandbox.getOrDefault(sandboxId, 0);
  }

  int leaseCount() {
    return leases.size();
  }

  /** Tokens and sandboxes with at least one open connection (zero counts are removed, so memory stays bounded). */
  int trackedKeys() {
    return perToken.size() + perSandbox.size();
  }

  private static void decrement(Map<String, Integer> counts, String key) {
    counts.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
  }
}

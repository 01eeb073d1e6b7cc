package io.openshell.client.sshsession;

import io.openshell.client.connection.CliException;
import io.openshell.client.connection.Environment;
import java.util.Optional;

/** An SSH session for a sandbox by name: the cached one while it lasts, else a freshly minted one (then cached). */
public final class SshSessions {

  /** Asks a gateway for a new session for a sandbox by name. */
  public interface Minter {
    SshSession mint(String endpoint, String sandboxName);
  }

  /** The sandbox exists but is not READY (yet): the one minting failure worth waiting out. */
  public static final class NotReady extends CliException {
    public NotReady(String message) {
      super(message);
    }
  }

  public record Obtained(SshSession session, boolean cached) {}

  private final SshSessionCache cache;
  private final Minter minter;

  public SshSessions(SshSessionCache cache, Minter minter) {
    this.cache = cache;
    this.minter = minter;
  }

  /** Sessions cached in {@code <state>/ssh-sessions}, minted over plain grpc-java. */
  public static SshSessions inStateDir(Environment environment) {
    return new SshSessions(new SshSessionCache(environment.stateDir().resolve("ssh-sessions")), new GrpcSshSessionMinter(environment));
  }

  public Obtained obtain(String gatewayName, String endpoint, String sandboxName) {
    Optional<SshSession> cached = cache.load(gatewayName, sandboxName, System.currentTimeMillis());
    if (cached.isPresent()) return new Obtained(cached.get(), true);
    return new Obtained(mint(gatewayName, endpoint, sandboxName), false);
  }

  /** Drops the cached session (the sandbox was deleted). */
  public void forget(String gatewayName, String sandboxName) {
    cache.forget(gatewayName, sandboxName);
  }

  /** A new session, replacing whatever was cached (used when the gateway rejected the cached token). */
  public SshSession mint(String gatewayName, String endpoint, String sandboxName) {
    cache.forget(gatewayName, sandboxName);
    SshSession session = minter.mint(endpoint, sandboxName);
    cache.store(gatewayName, sandboxName, session);
    return session;
  }
}

package io.openshell.gateway.sandbox;

import io.openshell.gateway.CborSerializable;
import java.util.List;

/**
 * A sandbox as API callers and watchers see it. Published after every change; {@code revision} grows
 * with each change so a watcher can drop views older than the snapshot it started from.
 */
public record SandboxView(
    String id,
    String name,
    byte[] spec,
    long createdAtMs,
    Phase phase,
    List<Condition> conditions,
    String instanceId,
    long revision,
    boolean removed) implements CborSerializable {}

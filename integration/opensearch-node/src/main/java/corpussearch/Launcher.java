package corpussearch;

import java.nio.file.Path;
import java.util.Collection;
import java.util.Collections;
import java.util.List;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * One OpenSearch node in this JVM, on 127.0.0.1: HTTP and transport ports, a data folder,
 * the cluster's name, this node's name, and the transport addresses of the nodes that form
 * the cluster ("" for a single node). Stops on SIGTERM (the JVM's shutdown hook closes it).
 *
 * <p>Usage: java -cp CLASSPATH corpussearch.Launcher HTTP_PORT TRANSPORT_PORT DATA CLUSTER
 * NODE [SEEDS] [MASTERS]
 */
public final class Launcher {

    /** Node's constructor that takes plugin classes is protected (as the test framework's). */
    static final class PluginNode extends Node {
        PluginNode(Environment env, Collection<Class<? extends Plugin>> plugins) {
            super(env, plugins, true);
        }
    }

    public static void main(String[] args) throws Exception {
        String http = args[0];
        String transport = args[1];
        Path data = Path.of(args[2]).toAbsolutePath();
        String cluster = args[3];
        String name = args[4];
        String seeds = args.length > 5 ? args[5] : "";
        String masters = args.length > 6 ? args[6] : "";
        Settings.Builder settings = Settings.builder()
                .put("path.home", data.resolve("home").toString())
                .put("path.data", data.resolve("data").toString())
                .put("path.logs", data.resolve("logs").toString())
                .put("network.host", "127.0.0.1")
                .put("http.port", http)
                .put("transport.port", transport)
                .put("cluster.name", cluster)
                .put("node.name", name)
                // a nearly full disk (CI machines) must not turn the indexes read-only
                .put("cluster.routing.allocation.disk.threshold_enabled", false);
        if (seeds.isEmpty()) {
            settings.put("discovery.type", "single-node");
        } else {
            settings.putList("discovery.seed_hosts", List.of(seeds.split(",")));
            settings.putList("cluster.initial_cluster_manager_nodes", List.of(masters.split(",")));
        }
        Environment env = InternalSettingsPreparer.prepareEnvironment(
                settings.build(), Collections.emptyMap(), null, () -> name);
        Node node = new PluginNode(env, List.of(Netty4Plugin.class, CommonAnalysisPlugin.class));
        node.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (Exception e) {
                // stopping anyway
            }
        }));
        System.err.println("node " + name + " started on 127.0.0.1:" + http);
        Thread.currentThread().join();
    }
}

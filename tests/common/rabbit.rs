//! RabbitMQ from the tests' side (rabbitmqctl, installed with the server).

/// Have the broker close every connection of process `pid` (as a broker restart
/// or a network failure would: imq names its connections `imq PID`); how many
/// it closed.
pub fn close_connections_of(pid: u32) -> usize {
    let out = std::process::Command::new("rabbitmqctl")
        .args(["list_connections", "-q", "pid", "client_properties"])
        .output()
        .expect("rabbitmqctl");
    let want = format!(r#"{{"connection_name","imq {pid}"}}"#);
    let mut n = 0;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some((conn, props)) = line.split_once('\t') {
            if props.contains(&want) {
                let ok = std::process::Command::new("rabbitmqctl")
                    .args(["close_connection", conn, "test: connection lost"])
                    .output()
                    .unwrap()
                    .status
                    .success();
                n += ok as usize;
            }
        }
    }
    n
}

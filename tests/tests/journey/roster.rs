//! Reads the students of the shared college roster (a GBK-encoded CSV), so the journey knows a
//! real student's number, ID number and class.

use std::path::Path;

pub struct RosterStudent {
    pub student_no: String,
    pub id_number: String,
    pub class: String,
}

pub fn college(path: &Path) -> Vec<RosterStudent> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (text, _, _) = encoding_rs::GBK.decode(&bytes);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| h.trim() == name).unwrap();
    let (no, id, class) = (col("学号"), col("身份证号"), col("班级"));
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            RosterStudent {
                student_no: cells[no].trim().to_owned(),
                id_number: cells[id].trim().to_owned(),
                class: cells[class].trim().to_owned(),
            }
        })
        .collect()
}

use recuento_mse::loglinear::{Heterogeneity, ListEffects, Terms, fit_model};
fn main() {
    let mut counts = vec![0.0; 8];
    counts[1] = 200.0;
    counts[2] = 150.0;
    counts[3] = 40.0;
    counts[4] = 3.0;
    counts[5] = 1.0;
    for h in Heterogeneity::ALL {
        let terms = Terms(vec![], Some(h), ListEffects::PerList);
        match fit_model(&counts, 3, &terms) {
            Ok(f) => println!(
                "{:?} est {} missing {} beta {:?} boundary {}",
                h, f.estimate, f.missing, f.fit.beta, f.fit.boundary
            ),
            Err(e) => println!("{:?} {:?}", h, e),
        }
    }
}

import { stackCli } from './cli';

describe('npm run stack (arguments refused before anything starts)', () => {
  it('when --mariadb is not a whole number, then up is refused naming the option', async () => {
    await expect(stackCli(['up', '--profile', 'spare', '--mariadb', 'three'])).rejects.toThrow('--mariadb takes a whole number (got "three")');
    await expect(stackCli(['up', '--profile', 'spare', '--mariadb', '-1'])).rejects.toThrow('--mariadb takes a whole number (got "-1")');
  });

  it('when --mariadb is out of range, then up is refused with the range', async () => {
    await expect(stackCli(['up', '--profile', 'spare', '--mariadb', '1'])).rejects.toThrow('the MariaDB count must be a whole number from 2 to 8 (got 1)');
    await expect(stackCli(['up', '--profile', 'spare', '--mariadb', '9'])).rejects.toThrow('the MariaDB count must be a whole number from 2 to 8 (got 9)');
  });
});
